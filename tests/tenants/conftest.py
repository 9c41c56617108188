"""Provisioning tests that change schemas as the database owner are undone between tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.tenants.owner import owner_changes_undo


@pytest.fixture(autouse=True)
def _owner_changes_undone_before(django_db_blocker: pytest.FixtureRequest) -> None:
    # The previous test's transaction has ended: its locks no longer stand in the way.
    with django_db_blocker.unblock():
        owner_changes_undo()


@pytest.fixture(scope="module", autouse=True)
def _owner_changes_undone_after(django_db_blocker: pytest.FixtureRequest) -> Iterator[None]:
    yield
    with django_db_blocker.unblock():
        owner_changes_undo()
