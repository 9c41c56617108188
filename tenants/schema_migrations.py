"""Migrating many department schemas at a release: in a pool of forked processes (or one after
another), each department on its own, so that one department's failure stops no other and is
reported by its name."""

from __future__ import annotations

import io
import multiprocessing
import time
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any

from django.core.management import call_command
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.utils import load_backend

from tenants.db import tenant_connection


@dataclass(frozen=True)
class SchemaMigrated:
    """What migrating one department's schema did: how many migrations it applied, how long it
    took, and why it failed if it did (the exception's first line; the traceback beside it)."""

    schema_name: str
    applied: int
    seconds: float
    error: str = ""
    detail: str = ""

    @property
    def failed(self) -> bool:
        return bool(self.error)


def _applied_count(schema_name: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [f'"{schema_name}".django_migrations'])
        if cursor.fetchone()[0] is None:
            return 0
        cursor.execute(f'SELECT count(*) FROM "{schema_name}".django_migrations')
        return int(cursor.fetchone()[0])


def schema_migrate(schema_name: str, verbosity: int = 0) -> SchemaMigrated:
    """Apply every missing migration to one department's schema, on the current connection (the
    owner's: see platform_setup); never raises. A failed migration is rolled back by
    PostgreSQL (each one is atomic), and the connection is closed so that its aborted transaction
    cannot reach the next department."""
    started = time.perf_counter()
    try:
        before = _applied_count(schema_name)
        call_command(
            "migrate_schemas",
            tenant=True,
            schema_name=schema_name,
            executor="standard",
            interactive=False,
            verbosity=verbosity,
            stdout=io.StringIO(),
        )
        applied = _applied_count(schema_name) - before
    except Exception as error:  # one department's failure must not stop the others
        connection.close()
        first_line = (str(error).strip().splitlines() or [""])[0]
        return SchemaMigrated(
            schema_name=schema_name,
            applied=0,
            seconds=time.perf_counter() - started,
            error=f"{type(error).__name__}: {first_line}",
            detail=traceback.format_exc(),
        )
    finally:
        tenant_connection.set_schema_to_public()
    return SchemaMigrated(
        schema_name=schema_name, applied=applied, seconds=time.perf_counter() - started
    )


def _forked_child_start(settings_dict: dict[str, Any]) -> None:
    # The parent closed its connections before forking; forget any socket left anyway without
    # closing it (closing would end the parent's session), so this process opens its own.
    for wrapper in connections.all(initialized_only=True):
        wrapper.connection = None
    # Connect as the parent's default connection did (the owner, in platform_setup), named
    # rather than inherited: the stand-in default connection (tenants.database.database_owner)
    # lives in the forking thread's locals, which a child must not depend on.
    if connections[DEFAULT_DB_ALIAS].settings_dict != settings_dict:
        backend = load_backend(settings_dict["ENGINE"])
        connections[DEFAULT_DB_ALIAS] = backend.DatabaseWrapper(settings_dict, DEFAULT_DB_ALIAS)


def department_schemas_migrate(
    *,
    schemas: Sequence[str],
    processes: int,
    verbosity: int = 0,
    progress: Callable[[int, int, SchemaMigrated], None] | None = None,
) -> list[SchemaMigrated]:
    """Migrate `schemas`, in `processes` forked processes (one after another in this process
    when 1), calling `progress(done, total, result)` as each department finishes. Each process
    connects on its own as whoever the default connection is now (the owner, in platform_setup).
    Returns one result per schema, failures included: a process that dies fails only the
    departments it had not finished, each by name."""
    total = len(schemas)
    results: list[SchemaMigrated] = []

    def finished(result: SchemaMigrated) -> None:
        results.append(result)
        if progress:
            progress(len(results), total, result)

    if processes <= 1 or total <= 1:
        for schema_name in schemas:
            finished(schema_migrate(schema_name, verbosity))
        return results

    # Nothing may be inherited half-open: the children fork from here with no connection.
    settings_dict = dict(connection.settings_dict)
    connections.close_all()
    started = time.perf_counter()
    with ProcessPoolExecutor(
        max_workers=min(processes, total),
        mp_context=multiprocessing.get_context("fork"),
        initializer=_forked_child_start,
        initargs=(settings_dict,),
    ) as pool:
        futures: dict[Future[SchemaMigrated], str] = {
            pool.submit(schema_migrate, schema_name, verbosity): schema_name
            for schema_name in schemas
        }
        for future in as_completed(futures):
            try:
                finished(future.result())
            except Exception as error:  # the process itself died (killed, out of memory)
                finished(
                    SchemaMigrated(
                        schema_name=futures[future],
                        applied=0,
                        seconds=time.perf_counter() - started,
                        error=f"{type(error).__name__}: {error}",
                    )
                )
    return results
