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
