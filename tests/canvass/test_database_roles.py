"""Which database login does what, when only DATABASE_URL is given."""

from __future__ import annotations

from tests.canvass.test_settings import PRODUCTION, manage


def test_production_without_the_owner_url_serves_but_will_not_migrate():
    assert manage("check", env=PRODUCTION).returncode == 0
    result = manage("platform_setup", env=PRODUCTION)
    assert result.returncode != 0
    assert "Changing the database structure needs the owner's login: set DATABASE_OWNER_URL" in (
        result.stderr
    )


def test_development_with_one_login_warns_that_the_audit_trail_is_not_protected():
    result = manage("check", env={"DATABASE_URL": PRODUCTION["DATABASE_URL"]})
    assert result.returncode == 0
    assert "DATABASE_OWNER_URL is not set" in result.stderr
    assert "can rewrite the audit trail" in result.stderr
