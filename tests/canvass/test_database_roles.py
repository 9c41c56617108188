"""Which database login does what, when only DATABASE_URL is given."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connections

from tenants import database
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


@pytest.mark.django_db
def test_the_test_databases_roles_protect_the_audit_trail():
    assert database.database_roles_problems() == []


@pytest.mark.django_db
@pytest.mark.parametrize("production", [True, False])
def test_one_role_for_both_is_refused_in_production_and_warned_about_otherwise(
    settings, monkeypatch, production
):
    owner = connections.settings["owner"]["USER"]
    monkeypatch.setattr(database, "application_role", lambda: owner)
    settings.PRODUCTION = production
    message = "The audit trail is not protected: DATABASE_URL and DATABASE_OWNER_URL log in as"
    if production:
        with pytest.raises(ImproperlyConfigured, match=message):
            database.database_privileges_ensure()
    else:
        with pytest.warns(UserWarning, match=message):
            database.database_privileges_ensure()
