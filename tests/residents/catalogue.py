"""The translatable strings of the source, extracted the way `makemessages` sees them (templates
through Django's templatize, Python with gettext's keywords and their local aliases), and the
project's Spanish catalogue read with Babel: the words tests compare the two."""

from __future__ import annotations

import ast
import io
from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from django.utils.translation.template import templatize

ROOT = Path(__file__).resolve().parents[2]
SPANISH_PO = ROOT / "portal" / "locale" / "es" / "LC_MESSAGES" / "django.po"
SPANISH_MO = SPANISH_PO.with_suffix(".mo")

# Babel's keyword specifications for Django's gettext functions.
KEYWORDS: dict[str, object] = {
    "gettext": None,
    "gettext_lazy": None,
    "gettext_noop": None,
    "ngettext": (1, 2),
    "ngettext_lazy": (1, 2),
    "pgettext": ((1, "c"), 2),
    "pgettext_lazy": ((1, "c"), 2),
    "npgettext": ((1, "c"), 2, 3),
    "npgettext_lazy": ((1, "c"), 2, 3),
}


@dataclass(frozen=True)
class SourceString:
    """One translatable string where the source uses it: the msgid (a pair for plurals)."""

    path: str
    line: int
    msgid: str | tuple[str, str]
    context: str | None

    @property
    def singular(self) -> str:
        return self.msgid[0] if isinstance(self.msgid, tuple) else self.msgid


def _aliases(source: str) -> dict[str, object]:
    """The module's names for gettext's functions (`gettext as _`, `gettext_lazy as _lazy`)."""
    keywords = dict(KEYWORDS)
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module == "django.utils.translation":
            for name in node.names:
                if name.name in KEYWORDS and name.asname:
                    keywords[name.asname] = KEYWORDS[name.name]
    return keywords


def source_strings(*roots: str) -> list[SourceString]:
    """Every translatable string under the given paths (folders or files, relative to the
    repository), migrations excepted."""
    found: list[SourceString] = []
    for root in roots:
        start = ROOT / root
        paths = [start] if start.is_file() else sorted(start.rglob("*"))
        for path in paths:
            if path.suffix not in {".py", ".html", ".txt"} or "migrations" in path.parts:
                continue
            text = path.read_text(encoding="utf-8")
            if path.suffix == ".py":
                keywords = _aliases(text)
            else:
                # In brackets, the tokenizer ignores the indentation templatize leaves behind.
                text = "(\n" + templatize(text, origin=str(path)) + "\n)"
                keywords = {"_": None, **KEYWORDS}
            for line, msgid, _comments, context in extract(
                "python",
                io.BytesIO(text.encode("utf-8")),
                keywords=keywords,  # type: ignore[arg-type]
            ):
                if isinstance(msgid, tuple):
                    msgid = (msgid[0], msgid[1])
                if msgid[0] if isinstance(msgid, tuple) else msgid:
                    relative = str(path.relative_to(ROOT))
                    found.append(SourceString(relative, line, msgid, context))
    return found


def spanish_po() -> Catalog:
    with SPANISH_PO.open("rb") as handle:
        return read_po(handle)


def spanish_mo() -> Catalog:
    with SPANISH_MO.open("rb") as handle:
        return read_mo(handle)


def translated(message: Message | None) -> bool:
    """A catalogue entry that gives a translation for every form (a fuzzy one is not used)."""
    if message is None or message.fuzzy:
        return False
    if isinstance(message.string, (tuple, list)):
        return bool(message.string) and all(message.string)
    return bool(message.string)
