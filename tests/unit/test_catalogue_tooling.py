"""The catalogues work with standard gettext tooling: no header or message is marked fuzzy, and
`pybabel compile` without `--use-fuzzy` compiles every catalogue of every language."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from babel.messages.mofile import read_mo

LOCALES = Path(__file__).resolve().parents[2] / "bot" / "i18n" / "locales"


def test_pybabel_compiles_every_catalogue_without_use_fuzzy(tmp_path: Path) -> None:
    copy = tmp_path / "locales"
    shutil.copytree(LOCALES, copy)
    catalogues = sorted(copy.glob("*/LC_MESSAGES/*.po"))
    assert len(catalogues) >= 21
    for po in catalogues:
        assert "#, fuzzy" not in po.read_text(encoding="utf-8"), po
    pybabel = Path(sys.executable).with_name("pybabel")
    for domain in sorted({po.stem for po in catalogues}):
        result = subprocess.run(
            [str(pybabel), "compile", "-d", str(copy), "-D", domain, "--statistics"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        assert "fuzzy" not in result.stderr.replace("0 fuzzy", ""), result.stderr
    for po in catalogues:
        mo = po.with_suffix(".mo")
        assert mo.exists(), f"{po} was not compiled"
        with mo.open("rb") as handle:
            compiled = read_mo(handle)
        assert len(compiled) > 0, mo
