"""A provisioning killed after storing its logo and before its transaction committed leaves the
logo behind (files are not part of the transaction): the provisioning sweep removes the files of
departments that do not exist, never a live department's, never a provisioning's at work."""

from __future__ import annotations

from urllib.parse import urlsplit

import psycopg
import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import connection

from tenants.services import orphan_logos_sweep
from tenants.storage import public_storage

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def stored(name: str) -> str:
    return public_storage().save(name, ContentFile(PNG))


def test_the_logo_of_a_department_that_never_committed_is_removed_and_a_live_one_stays():
    ghost = stored("logos/ghosttown/logo.png")
    live = stored("logos/concord/logo-orphan-test.png")
    try:
        # (The suite's storage may hold other leftovers: departments made in rolled-back tests.)
        assert "ghosttown" in orphan_logos_sweep()
        assert not public_storage().exists(ghost)
        assert public_storage().exists(live)
        assert orphan_logos_sweep() == []
    finally:
        public_storage().delete(live)


def test_a_provisioning_at_work_keeps_its_logo():
    ghost = stored("logos/risingtown/logo.png")
    test_database = urlsplit(settings.DATABASE_URL)._replace(
        path=f"/{connection.settings_dict['NAME']}"
    )
    with psycopg.connect(test_database.geturl(), autocommit=False) as other:
        # The provisioning's own transaction-level lock (tenants.services.provisioning_lock).
        other.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
            ["canvass-provision:risingtown"],
        )
        assert "risingtown" not in orphan_logos_sweep()
        assert public_storage().exists(ghost)
    assert orphan_logos_sweep() == ["risingtown"]
    assert not public_storage().exists(ghost)
