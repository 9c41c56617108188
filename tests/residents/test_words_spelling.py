"""The English is US English, as the departments using Canvass write it: no British spelling in
any string a person reads (the translatable strings of every app, and the English-only pages'
template text). Code identifiers (`organisation_name`, `offence_types`) are not checked."""

from __future__ import annotations

import ast
import re

from tests.residents.catalogue import ROOT, source_strings

BRITISH = re.compile(
    r"\b(organis(e|ed|es|ing|ation|ations)|authoris(e|ed|es|ing|ation)|unauthorised|centres?|"
    r"colours?|metres?|kilometres?|offences?|cancell(ed|ing)|fulfilment|"
    r"neighbour(s|hood|hoods)?|licence|behaviour|favour(ite)?|catalogue|programme|"
    r"recognis(e|ed)|realis(e|ed)|minimis(e|ed)|summaris(e|ed)|analys(e|ed)|grey)\b",
    re.IGNORECASE,
)
APPS = ("portal", "tenants", "platform", "billing")
# Template text outside tags: {% ... %}, {{ ... }} and {# ... #} are code, not words.
TEMPLATE_CODE = re.compile(r"\{%.*?%\}|\{\{.*?\}\}|\{#.*?#\}", re.DOTALL)


def _placeholders_removed(text: str) -> str:
    return re.sub(r"%\([a-z_]+\)[sd]|\{\{[^}]*\}\}|\{[a-z_]+\}", "", text)


def test_the_english_strings_use_us_spelling():
    found = []
    for string in source_strings(*APPS):
        for text in string.msgid if isinstance(string.msgid, tuple) else (string.msgid,):
            match = BRITISH.search(_placeholders_removed(text))
            if match:
                found.append(f"{string.path}:{string.line}: {match.group(0)!r} in {text!r}")
    assert not found, "British spelling in English strings:\n" + "\n".join(found)


def test_the_english_only_template_text_uses_us_spelling():
    found = []
    for app in APPS:
        for path in sorted((ROOT / app).rglob("templates/**/*")):
            if path.suffix not in {".html", ".txt"}:
                continue
            text = TEMPLATE_CODE.sub(" ", path.read_text(encoding="utf-8"))
            text = re.sub(r"<[^>]*>", " ", text)  # attributes and class names are code too
            for match in BRITISH.finditer(text):
                found.append(f"{path.relative_to(ROOT)}: {match.group(0)!r}")
    assert not found, "British spelling in template text:\n" + "\n".join(found)


def test_the_check_knows_british_from_us_spelling():
    assert BRITISH.search("the city centre") and BRITISH.search("Primary colour")
    assert BRITISH.search("an authorised officer") and BRITISH.search("Business or organisation")
    assert not BRITISH.search("the city center, Primary color, an authorized organization")


def test_the_english_only_form_labels_use_us_spelling():
    """The vendor console's forms are English only: their plain labels and help texts too."""
    found = []
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.keyword) and node.arg in WORDED_ARGUMENTS:
                    value = node.value
                    if isinstance(value, ast.Constant) and isinstance(value.value, str):
                        match = BRITISH.search(value.value)
                        if match:
                            where = f"{path.relative_to(ROOT)}:{node.value.lineno}"
                            found.append(f"{where}: {match.group(0)!r} in {value.value!r}")
    assert not found, "British spelling in form labels:\n" + "\n".join(found)


WORDED_ARGUMENTS = {"label", "help_text", "verbose_name", "verbose_name_plural", "title"}
