"""A template never inflects a library's or a person's name (issue 21).

Finnish would inflect a name put after "kirjastoon", "kirjastoonne", "henkilölle", or glued to an
ending ("{name}n", "{user}:lle"): "Vierailusi kirjastoon Tervon kirjasto" is wrong, and no ending
glued by a template is right for every name. Every message with a name placeholder is rendered
with five real names; the name must stand alone (after a colon, a dash, in parentheses or as the
subject), in the nominative. Swedish and English must not glue a genitive to a name either.
"""

from __future__ import annotations

import re

import pytest

from bot.i18n import LANGUAGES, catalogue, plural_keys, plurals

NAMES = (
    "Tervon kirjasto",
    "Kuopion kaupunginkirjasto – Maakuntakirjasto",
    "Joroisten kirjasto",
    "Rantasalmen kirjasto",
    "Siilinjärven kirjasto",
)
# Placeholders that carry a library's, a person's (a Slack mention) or a region's name.
NAME_PLACEHOLDERS = {
    "host",
    "library",
    "home",
    "visitor",
    "supervisor",
    "user",
    "who",
    "author",
    "coordinator",
    "to",
    "substitute",
    "people",
    "region",
    "name",
    "by",
}
PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")

# A Finnish noun that a name would stand in apposition to, in a case other than the nominative
# ("kirjastoon X", "kirjaston X", "kohteeseen X", "henkilölle X", "alueelle X"): the name would
# have to take the same case.
HEADS = (
    "kohdekirjasto",
    "kirjasto",
    "kohde",
    "kohtee",
    "esihenkilö",
    "henkilö",
    "alue",
    "aluee",
    "informaatik",  # informaatikko, informaatikon, informaatikolle …
    "vierailija",
    "kollega",
    "sijaise",
)
NOMINATIVES = {
    "kohdekirjasto",
    "kohdekirjastot",
    "kirjasto",
    "kirjastot",
    "kohde",
    "kohteet",
    "esihenkilö",
    "esihenkilöt",
    "henkilö",
    "henkilöt",
    "alue",
    "alueet",
    "informaatikko",
    "informaatikot",
    "vierailija",
    "vierailijat",
    "kollega",
    "kollegat",
    "sijaiset",
    "sijaisesi",  # the nominative with "your": "sijaisesi Tervon kirjasto päätti" is right
}
INFLECTED_HEAD = re.compile(rf"(?i)(?<![\w-])(?:{'|'.join(HEADS)})[a-zäö]*$")


class Fill(dict):
    def __missing__(self, key: str) -> str:
        return "lukupiirit" if key == "topic" else "ke 9.12.2026" if key in ("date", "dates") else "3"


def name_messages(lang: str) -> list[tuple[str, str]]:
    """(key, text) of every message of the language (each plural form) that takes a name."""
    texts = [(key, text) for key, text in catalogue(lang).items()]
    for key in plural_keys(lang):
        texts += [(key, plurals(lang).ngettext(key, key + ".plural", n)) for n in (1, 2)]
    return [(k, t) for k, t in texts if NAME_PLACEHOLDERS & set(PLACEHOLDER.findall(t))]


def problems(lang: str, key: str, text: str) -> list[str]:
    found = []
    for name in NAMES:
        rendered = text.format_map(Fill({p: name for p in NAME_PLACEHOLDERS}))
        for hit in re.finditer(re.escape(name), rendered):
            after = rendered[hit.end() : hit.end() + 4]
            if re.match(r"[:'’-]?[^\W\d_]", after):
                found.append(f"{lang} {key}: an ending glued to the name: {rendered!r}")
            before = re.sub(r"[*_\s]+$", "", rendered[: hit.start()])
            head = INFLECTED_HEAD.search(before)
            if lang == "fi" and head and head.group(0).lower() not in NOMINATIVES:
                found.append(f"{lang} {key}: the name after {head.group(0)!r} needs its case: {rendered!r}")
    return found


def test_the_names_placeholders_are_in_use():
    keys = {key for key, _ in name_messages("fi")}
    assert {"visits.card.host", "reminders.day_before.visitor", "writeups.notice.published"} <= keys


@pytest.mark.parametrize("lang", LANGUAGES)
def test_no_message_inflects_a_name(lang):
    found = [line for key, text in name_messages(lang) for line in problems(lang, key, text)]
    assert not found, "\n".join(dict.fromkeys(found))


def test_the_check_catches_what_the_issue_found():
    assert problems("fi", "k", "Vierailusi kirjastoon {host} on {date}.")
    assert problems("fi", "k", "vierailulle kirjastoonne {host}")
    assert problems("fi", "k", "Botissa {user}:lle annettu alue")
    assert problems("fi", "k", "Kiitos! Ehdotus lähti kohteeseen {host}.")
    assert problems("sv", "k", "{host}s kontaktperson")
    assert not problems("fi", "k", "Vierailusi: {host}, {date}.")
    assert not problems("fi", "k", "*Kohdekirjasto:* {host}")
    assert not problems("fi", "k", "{visitor} ({home}) tulee vierailulle: {host}, {date}.")
