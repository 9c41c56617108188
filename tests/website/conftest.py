"""The platform site's kept pages start empty in every test (tenants.page_cache)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.conf import settings
from django.test import Client

from tenants.page_cache import pages_clear


@pytest.fixture(autouse=True)
def _no_kept_pages() -> Iterator[None]:
    pages_clear()
    yield
    pages_clear()


def spanish(client: Client) -> Client:
    """The client, asking for Spanish the way the language switch does (its cookie)."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "es"
    return client
