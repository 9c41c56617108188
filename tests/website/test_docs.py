"""The documentation pages: README.md and docs/*.md rendered as HTML, nothing else readable
through them, raw HTML shown as text, links between documents kept on the site."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from website.documents import document_render, documents


def test_the_index_lists_the_readme_and_every_file_in_docs(platform_client):
    page = platform_client.get("/docs/").content.decode()

    expected = ["readme"] + [path.stem for path in (Path(settings.BASE_DIR) / "docs").glob("*.md")]
    assert {"readme", "architecture", "operations", "benchmarks"} <= set(expected)
    for slug in expected:
        assert f'href="/docs/{slug}/"' in page
    assert ">Operations</a>" in page


@pytest.mark.parametrize("slug", ["readme", "architecture", "operations", "benchmarks"])
def test_each_document_is_rendered_as_html(platform_client, slug):
    response = platform_client.get(f"/docs/{slug}/")

    assert response.status_code == 200
    page = response.content.decode()
    assert '<article class="doc" lang="en"><h1' in page
    assert "<h2" in page
    assert "```" not in page  # fenced code became <pre>
    assert 'class="doc-toc"' in page


@pytest.mark.parametrize(
    "path",
    [
        "/docs/settings/",
        "/docs/nothing/",
        "/docs/..%2Fplatform%2Fcanvass%2Fsettings/",
        "/docs/../platform/canvass/settings.py",
        "/docs/%2e%2e/",
        "/docs/README.md/",
        "/docs/pyproject/",
    ],
)
def test_anything_else_is_not_found(platform_client, path):
    assert platform_client.get(path).status_code == 404


def test_the_renderer_knows_only_the_documents_it_listed():
    assert document_render("../settings") is None
    assert document_render("../platform/canvass/settings") is None
    assert {document.slug for document in documents()} >= {"readme", "operations"}


@pytest.fixture
def repository(tmp_path, settings):
    (tmp_path / "docs").mkdir()
    (tmp_path / "README.md").write_text("# Read me\n\nSee [operations](docs/guide.md#backups).\n")
    (tmp_path / "docs" / "guide.md").write_text(
        "# The guide\n\nFirst paragraph of the guide.\n\n"
        "<script>alert('raw')</script>\n\n"
        'Inline <b onclick="x()">bold</b> text.\n\n'
        "[evil](javascript:alert(1)) [home](../README.md) [code](../tenants/models.py#L3) "
        "[site](https://example.org/) [up](../../etc/passwd)\n\n## Backups\n\nText.\n"
    )
    settings.BASE_DIR = tmp_path
    settings.CANVASS_SOURCE_URL = "https://git.example.org/canvass"
    return tmp_path


def test_raw_html_is_shown_as_text(platform_client, repository):
    page = platform_client.get("/docs/guide/").content.decode()

    assert "<script>alert" not in page
    assert "&lt;script&gt;alert" in page
    assert "<b onclick" not in page


def test_links_stay_on_the_site_or_go_to_the_source(platform_client, repository):
    guide = platform_client.get("/docs/guide/").content.decode()
    readme = platform_client.get("/docs/readme/").content.decode()

    assert 'href="/docs/readme/"' in guide
    assert 'href="https://git.example.org/canvass/blob/main/tenants/models.py#L3"' in guide
    assert 'href="https://example.org/"' in guide
    assert "javascript:" not in guide
    assert "etc/passwd" not in guide
    assert 'href="/docs/guide/#backups"' in readme
    assert 'id="backups"' in guide


def test_the_index_shows_each_documents_title_and_first_words(platform_client, repository):
    page = platform_client.get("/docs/").content.decode()

    assert ">The guide</a>" in page
    assert "First paragraph of the guide." in page


def test_a_changed_file_is_rendered_again(repository):
    assert "Text." in document_render("guide").body
    guide = repository / "docs" / "guide.md"
    guide.write_text("# The guide\n\nNew words.\n")
    import os

    os.utime(guide, (guide.stat().st_atime, guide.stat().st_mtime + 5))

    assert "New words." in document_render("guide").body
