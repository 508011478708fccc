"""The settings modal (home library, language) and the library picker's options."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from bot import ids
from bot.i18n import Translator
from bot.views import blocks as b
from bot.views import limits
from models import Library
from services.catalogue.libraries import LibraryName
from services.people.staff import Staff

LANGUAGE_NAMES = {"fi": "Suomi", "sv": "Svenska", "en": "English"}


def library_option(library: Library | LibraryName) -> dict[str, Any]:
    label = (
        library.name if library.municipality in library.name else f"{library.name} ({library.municipality})"
    )
    return b.option(label, str(library.id))


def library_options(libraries: Sequence[Library | LibraryName]) -> dict[str, Any]:
    return {"options": [library_option(lib) for lib in libraries[: limits.SELECT_OPTIONS]]}


def settings_modal(
    t: Translator,
    staff: Staff,
    *,
    current_library: Library | LibraryName | None,
    welcome: bool = False,
    pending: str = "",
) -> dict[str, Any]:
    blocks: list[b.Block] = []
    if welcome:
        blocks.append(b.section(t("settings.welcome")))
    library_select: dict[str, Any] = {
        "type": "external_select",
        "action_id": ids.HOME_LIBRARY,
        "placeholder": b.plain(t("settings.library.placeholder"), limits.PLACEHOLDER),
        "min_query_length": 0,
    }
    if current_library is not None:
        library_select["initial_option"] = library_option(current_library)
    blocks.append(
        b.input_block(
            ids.HOME_LIBRARY, t("settings.library.label"), library_select, hint=t("settings.library.hint")
        )
    )
    auto = b.option(t("settings.language.auto"), ids.LANGUAGE_AUTO)
    language_options = [auto] + [b.option(name, code) for code, name in LANGUAGE_NAMES.items()]
    chosen = next((o for o in language_options if o["value"] == staff.chosen_language), auto)
    blocks.append(
        b.input_block(
            ids.LANGUAGE,
            t("settings.language.label"),
            {
                "type": "static_select",
                "action_id": ids.LANGUAGE,
                "options": language_options,
                "initial_option": chosen,
            },
        )
    )
    metadata = json.dumps({"pending": pending[:100]}) if pending else ""
    return b.modal(
        ids.SETTINGS_VIEW,
        t("settings.title"),
        blocks,
        submit=t("common.save"),
        close=t("common.cancel"),
        private_metadata=metadata,
    )


def settings_saved(t: Translator, staff: Staff, *, command: str, pending: str = "") -> dict[str, Any]:
    language = LANGUAGE_NAMES[staff.language]
    lines = [
        t("settings.saved", library=b.escape(staff.home_library_name or ""), language=language),
    ]
    if staff.chosen_language is None:
        lines.append(t("settings.saved.auto_language"))
    if pending:
        lines.append(t("settings.saved.continue", command=command, word=pending))
    return b.modal(
        ids.SETTINGS_VIEW + "_saved",
        t("settings.title"),
        [b.section("\n\n".join(lines))],
        close=t("common.close"),
    )
