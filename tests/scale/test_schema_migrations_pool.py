"""A migrating process that dies (killed, out of memory) fails only the departments it had not
finished, each reported by name; the pool does not hang."""

from __future__ import annotations

import os

import pytest

from tenants import schema_migrations
from tenants.schema_migrations import SchemaMigrated, department_schemas_migrate


def migrate_or_die(schema_name: str, verbosity: int = 0) -> SchemaMigrated:
    if schema_name == "dies":
        os._exit(9)  # as the kernel's OOM killer would end it
    return SchemaMigrated(schema_name=schema_name, applied=1, seconds=0.0)


def test_a_dead_process_fails_its_departments_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    # The forked processes inherit the patched function.
    monkeypatch.setattr(schema_migrations, "schema_migrate", migrate_or_die)
    seen: list[tuple[int, int, str]] = []
    results = department_schemas_migrate(
        schemas=["first", "dies", "third", "fourth"],
        processes=2,
        progress=lambda done, total, result: seen.append((done, total, result.schema_name)),
    )

    by_name = {result.schema_name: result for result in results}
    assert sorted(by_name) == ["dies", "first", "fourth", "third"]
    assert by_name["dies"].failed
    assert "BrokenProcessPool" in by_name["dies"].error
    assert [done for done, _total, _name in seen] == [1, 2, 3, 4]
    assert {total for _done, total, _name in seen} == {4}


def test_a_child_connects_as_the_parents_default_connection_whatever_it_inherited() -> None:
    """A forked child names the parent's login (the owner's, in platform_setup) instead of
    trusting the stand-in connection it inherits in the forking thread's locals: run here in a
    fresh thread, whose default connection is the application's."""
    import threading

    from django.db import connections

    from tenants.database import OWNER_ALIAS
    from tenants.schema_migrations import _forked_child_start

    owner = dict(connections.settings[OWNER_ALIAS])
    seen: list[dict] = []

    def child() -> None:
        assert connections["default"].settings_dict["USER"] != owner["USER"]
        _forked_child_start(owner)
        seen.append(connections["default"].settings_dict)
        connections["default"].close()

    thread = threading.Thread(target=child)
    thread.start()
    thread.join()
    assert seen and seen[0]["USER"] == owner["USER"]
