"""The department console can be used in Spanish: every string its pages, forms and messages
show has a Spanish translation, neither empty nor fuzzy, in the catalogue and in its compiled
form (the resident side has its own test, tests/residents/test_words_spanish.py)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.residents.catalogue import (
    SPANISH_MO,
    SourceString,
    source_strings,
    spanish_mo,
    spanish_po,
    translated,
)

# What staff of a department can see: the console and its apps (guardrails, oversight, council
# reports, transparency settings, live view, owners' notices' settings), the distances and words
# every page uses, and the department's models' labels in its forms.
CONSOLE_SOURCES = (
    "portal/department",
    "portal/guardrails",
    "portal/oversight",
    "portal/council_reports",
    "portal/transparency",
    "portal/liveview",
    "portal/access_notices",
    "tenants/units.py",
    "tenants/templatetags",
    "tenants/models.py",
)


def _missing(catalogue_has: Callable[[SourceString], bool]) -> list[str]:
    seen: set[tuple[object, str | None]] = set()
    problems = []
    for string in source_strings(*CONSOLE_SOURCES):
        key = (string.msgid, string.context)
        if key in seen:
            continue
        seen.add(key)
        if not catalogue_has(string):
            context = f" [{string.context}]" if string.context else ""
            problems.append(f"{string.path}:{string.line}{context} {string.msgid!r}")
    return problems


def test_the_extraction_sees_the_consoles_strings():
    strings = {s.singular for s in source_strings(*CONSOLE_SOURCES)}
    assert "Save the units" in strings  # a template's {% translate %}
    assert "Feet and miles" in strings  # a form's choice (gettext_lazy)
    assert "%(n)s ft" in strings  # tenants.units, which every page's distances go through


def test_every_console_string_has_a_spanish_translation_neither_empty_nor_fuzzy():
    catalogue = spanish_po()
    missing = _missing(lambda s: translated(catalogue.get(s.singular, context=s.context)))
    assert not missing, "No Spanish translation in django.po for:\n" + "\n".join(missing)


def test_the_compiled_catalogue_has_every_console_string():
    if not SPANISH_MO.exists():
        pytest.fail("portal/locale/es/LC_MESSAGES/django.mo is missing: run `make messages`")
    catalogue = spanish_mo()
    missing = _missing(lambda s: translated(catalogue.get(s.msgid, context=s.context)))
    assert not missing, "Not in the compiled catalogue (run `make messages`):\n" + "\n".join(
        missing
    )


def test_no_entry_of_the_catalogue_is_left_fuzzy_or_empty():
    """An entry makemessages marked fuzzy or left empty is English on a Spanish page."""
    left = [
        message.id
        for message in spanish_po()
        if message.id and (message.fuzzy or not translated(message))
    ]
    assert not left, "Untranslated or fuzzy entries in django.po:\n" + "\n".join(map(str, left))
