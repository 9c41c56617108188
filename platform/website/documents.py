"""The repository's documentation as pages of the platform site: README.md and docs/*.md,
rendered by Python-Markdown with raw HTML escaped, links to other documents turned into the
site's own and links to source files into the published repository's."""

from __future__ import annotations

import posixpath
import re
import threading
import xml.etree.ElementTree as etree
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import markdown
from django.conf import settings
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor

SAFE_SCHEMES = {"http", "https", "mailto"}


@dataclass(frozen=True)
class Document:
    slug: str
    path: Path
    title: str
    summary: str


@dataclass(frozen=True)
class RenderedDocument:
    document: Document
    body: SafeString
    toc: SafeString


def _source_files() -> list[tuple[str, Path]]:
    """(slug, path) of every document: the README first, then docs/ by name. Slugs come from
    the files found, never from a visitor's input."""
    base = Path(settings.BASE_DIR)
    found = [("readme", base / "README.md")] if (base / "README.md").is_file() else []
    found += [(path.stem.lower(), path) for path in sorted((base / "docs").glob("*.md"))]
    return found


def _title_and_summary(text: str, fallback: str) -> tuple[str, str]:
    title, summary, paragraph = fallback, "", []
    for line in text.splitlines():
        if line.startswith("# ") and title == fallback:
            title = line[2:].strip()
        elif title != fallback and line.strip() and not line.startswith(("#", "```", "|", "-")):
            paragraph.append(line.strip())
        elif paragraph:
            break
    summary = " ".join(paragraph)
    # Markdown's marks are noise in a one-line summary.
    summary = re.sub(r"[`*_]|\[([^\]]*)\]\([^)]*\)", r"\1", summary)
    return title, (summary[:200].rsplit(" ", 1)[0] + "…") if len(summary) > 200 else summary


def documents() -> list[Document]:
    """Every document, with its title (its first heading) and the start of its first paragraph."""
    listed = []
    for slug, path in _source_files():
        title, summary = _title_and_summary(path.read_text(encoding="utf-8"), path.name)
        listed.append(Document(slug, path, title, summary))
    return listed


class _LinkRewriter(Treeprocessor):
    """Links between documents stay on the site; links to other files of the repository go to
    the published source; anything but http(s), mailto and relative links is dropped."""

    def __init__(self, md: markdown.Markdown, source: str, slugs: dict[str, str]) -> None:
        super().__init__(md)
        self.source = source  # the document's path in the repository, e.g. docs/operations.md
        self.slugs = slugs  # repository path -> slug

    def run(self, root: etree.Element) -> None:
        for element in root.iter():
            for attribute in ("href", "src"):
                value = element.get(attribute)
                if value is not None:
                    element.set(attribute, self.rewrite(value))

    def rewrite(self, url: str) -> str:
        parts = urlsplit(url)
        if parts.scheme:
            return url if parts.scheme.lower() in SAFE_SCHEMES else "#"
        if not parts.path or url.startswith("/"):
            return url
        target = posixpath.normpath(posixpath.join(posixpath.dirname(self.source), parts.path))
        fragment = f"#{parts.fragment}" if parts.fragment else ""
        if target in self.slugs:
            # The platform's URLs, whichever host (or none, in a command) renders the document.
            url = reverse(
                "website:document",
                args=[self.slugs[target]],
                urlconf=settings.PUBLIC_SCHEMA_URLCONF,
            )
            return url + fragment
        if target.startswith("..") or target == ".":
            return "#"
        source = settings.CANVASS_SOURCE_URL.rstrip("/")
        return f"{source}/blob/main/{target}{fragment}"


class _RepositoryLinks(Extension):
    def __init__(self, source: str, slugs: dict[str, str]) -> None:
        super().__init__()
        self.source = source
        self.slugs = slugs

    def extendMarkdown(self, md: markdown.Markdown) -> None:
        # Raw HTML in a document is shown as text, never passed through.
        md.preprocessors.deregister("html_block")
        md.inlinePatterns.deregister("html")
        md.treeprocessors.register(_LinkRewriter(md, self.source, self.slugs), "repo_links", 1)


_rendered: dict[tuple[str, float], RenderedDocument] = {}
_rendered_lock = threading.Lock()


def document_render(slug: str) -> RenderedDocument | None:
    """The document as HTML (None for an unknown slug), kept per process until the file
    changes: the longest take tens of milliseconds to render."""
    found = {document.slug: document for document in documents()}
    document = found.get(slug)
    if document is None:
        return None
    key = (slug, document.path.stat().st_mtime)
    cached = _rendered.get(key)
    if cached is not None:
        return cached
    base = Path(settings.BASE_DIR)
    slugs = {d.path.relative_to(base).as_posix(): d.slug for d in found.values()}
    renderer = markdown.Markdown(
        extensions=[
            "extra",
            "sane_lists",
            "toc",
            _RepositoryLinks(document.path.relative_to(base).as_posix(), slugs),
        ],
        extension_configs={"toc": {"toc_depth": "2-3", "permalink": False}},
        output_format="html",
    )
    # Safe: raw HTML is escaped by _RepositoryLinks, and Markdown escapes all text it emits.
    body = mark_safe(renderer.convert(document.path.read_text(encoding="utf-8")))
    toc = mark_safe(getattr(renderer, "toc", ""))
    rendered = RenderedDocument(document, body, toc)
    with _rendered_lock:
        for old in [k for k in _rendered if k[0] == slug]:
            del _rendered[old]
        _rendered[key] = rendered
    return rendered
