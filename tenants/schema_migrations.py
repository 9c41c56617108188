"""Migrating many department schemas at a release: in a pool of forked processes (or one after
another), each department on its own, so that one department's failure stops no other and is
reported by its name."""

from __future__ import annotations

import io
import multiprocessing
import sys
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import import_module
from typing import Any, Protocol, cast

from django.apps import apps
from django.apps.registry import Apps
from django.contrib.auth import get_permission_codename
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.management import create_contenttypes
from django.contrib.contenttypes.models import ContentType
from django.core.management.base import CommandError
from django.core.management.sql import emit_post_migrate_signal, emit_pre_migrate_signal
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connection, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.migration import Migration
from django.db.migrations.recorder import MigrationRecorder
from django.db.migrations.state import ModelState, ProjectState
from django.db.models.signals import post_migrate
from django.db.utils import load_backend
from django.utils.module_loading import module_has_submodule

from tenants.db import TenantConnection, tenant_connection


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


class _SchemaRecorder(MigrationRecorder):
    """Django's record of applied migrations, in the schema the connection is set to: whether
    its table exists is one lookup of that table, not a listing of every table on the search
    path (django-tenants' introspection, about 7 ms a schema)."""

    _has_table: bool

    def has_table(self) -> bool:
        if not self._has_table:
            schema_name = cast(TenantConnection, self.connection).schema_name
            schema = self.connection.ops.quote_name(schema_name)
            with self.connection.cursor() as cursor:
                cursor.execute(
                    "SELECT to_regclass(%s)", [f"{schema}.{self.Migration._meta.db_table}"]
                )
                self._has_table = cursor.fetchone()[0] is not None
        return bool(self._has_table)


class _SchemaExecutor(MigrationExecutor):
    """Django's migration executor on one schema, with a loader (the migration graph and the
    applied set) prepared once for every schema that has applied the same migrations."""

    def __init__(
        self,
        wrapper: BaseDatabaseWrapper,
        loader: MigrationLoader,
        recorder: MigrationRecorder | None = None,
    ) -> None:
        # Not MigrationExecutor.__init__: it would read the files and build the graph again.
        self.connection = wrapper
        self.loader = loader
        self.recorder = recorder or _SchemaRecorder(wrapper)
        self.progress_callback = None


@dataclass(frozen=True)
class _Prepared:
    """What migrating a schema needs that depends only on which migrations it has applied: the
    loader (its graph and applied set) and the project's state at those migrations, rendered."""

    loader: MigrationLoader
    state: ProjectState


# Within migration_states_shared(): the migration files on disk may change between two runs
# in one process (a test, the benchmark), never during one. Forked processes inherit what the
# parent prepared before the fork (the public schema's and the template's state, in
# platform_setup).
_prepared: dict[frozenset[tuple[str, str]], _Prepared] = {}
_sharing = 0


@contextmanager
def migration_states_shared() -> Iterator[None]:
    """Within the block, every schema migrated (by schema_migrations_apply or schema_migrate)
    after another at the same migrations reuses the first one's loader and rendered state;
    nested blocks share the outermost one's."""
    global _sharing
    if not _sharing:
        _prepared.clear()
    _sharing += 1
    try:
        yield
    finally:
        _sharing -= 1
        if not _sharing:
            _prepared.clear()


def _prepared_for(wrapper: BaseDatabaseWrapper, applied: frozenset[tuple[str, str]]) -> _Prepared:
    """The loader and rendered state for schemas at `applied`, made by the first of them (the
    checks Django's migrate makes of the history and the graph included) and then reused: the
    migrate command renders every model of the project again in each schema."""
    prepared = _prepared.get(applied)
    if prepared is None:
        if not _prepared:
            # As Django's migrate does before its first migration: the apps' signal handlers,
            # and the backend's own preparation of the database.
            for app_config in apps.get_app_configs():
                if module_has_submodule(app_config.module, "management"):
                    import_module(".management", app_config.name)
            wrapper.prepare_database()
        loader = MigrationLoader(wrapper)
        loader.check_consistent_history(wrapper)
        conflicts = loader.detect_conflicts()
        if conflicts:
            raise CommandError(
                "Conflicting migrations detected: "
                + "; ".join(f"{', '.join(names)} in {app}" for app, names in conflicts.items())
            )
        # Django's migrate starts from this state (a private method, absent from the stubs).
        executor: Any = _SchemaExecutor(wrapper, loader)
        state: ProjectState = executor._create_project_state(with_applied_migrations=True)
        state.apps  # noqa: B018 (rendered here once, cloned for each schema)
        prepared = _prepared[applied] = _Prepared(loader=loader, state=state)
    return prepared


# Django's own post_migrate receivers: they create the content types and permissions that are
# missing, and do nothing else.
_CONTENT_TYPES_AND_PERMISSIONS = frozenset({create_contenttypes, create_permissions})


def _post_migrate_would_change_nothing(wrapper: BaseDatabaseWrapper, state_apps: Apps) -> bool:
    """Whether post_migrate, sent now in this schema, would find nothing to do: its only
    receivers are Django's content types and permissions, and every content type and permission
    they would create for `state_apps` is in the schema already (one query). Migrations that add
    or rename a model, or change its permissions, make it send the signal."""
    expected: set[tuple[str, str, str]] = set()
    for app_config in apps.get_app_configs():
        if app_config.models_module is None:
            continue
        receivers, async_receivers = post_migrate._live_receivers(app_config)
        if async_receivers or not set(receivers) <= _CONTENT_TYPES_AND_PERMISSIONS:
            return False
        try:
            models = list(state_apps.get_app_config(app_config.label).get_models())
        except LookupError:
            continue
        for model in models:
            opts = model._meta
            model_name = str(opts.model_name)
            expected.add((opts.app_label, model_name, ""))
            # What create_permissions makes: the default ones, then Meta.permissions.
            expected.update(
                (opts.app_label, model_name, get_permission_codename(action, opts))
                for action in opts.default_permissions
            )
            expected.update(
                (opts.app_label, model_name, codename) for codename, _name in opts.permissions
            )
    content_type = wrapper.ops.quote_name(ContentType._meta.db_table)
    permission = wrapper.ops.quote_name(Permission._meta.db_table)
    try:
        with transaction.atomic(using=wrapper.alias), wrapper.cursor() as cursor:
            cursor.execute(
                f"SELECT app_label, model, '' FROM {content_type} UNION ALL "
                f"SELECT t.app_label, t.model, p.codename FROM {permission} p "
                f"JOIN {content_type} t ON t.id = p.content_type_id"
            )
            present = set(cursor.fetchall())
    except DatabaseError:  # no such tables here: the receivers decide what to do
        return False
    return expected <= present


class Output(Protocol):
    """Where progress lines go: a stream, or a management command's stdout."""

    def write(self, text: str, /) -> object: ...


class _Progress:
    """Django's migrate command's "Applying app.name... OK" lines, on `stdout` (each written
    whole once applied, which a command's stdout and a plain stream both take as one line)."""

    def __init__(self, stdout: Output) -> None:
        self.stdout = stdout

    def __call__(
        self, action: str, migration: Migration | None = None, fake: bool | None = False, /
    ) -> None:
        if action == "apply_success":
            self.stdout.write(f"  Applying {migration}... OK\n")


def schema_migrations_apply(
    schema_name: str, *, verbosity: int = 0, stdout: Output | None = None
) -> int:
    """Bring one schema (public, the template or a department's) up to the migrations on disk
    as Django's migrate command would, on the current connection; returns how many migrations
    it applied. Within migration_states_shared(), schemas at the same migrations share one
    loader and one rendered state (cloned for each), and post_migrate is sent only where it has
    something to do (_post_migrate_would_change_nothing). Each migration is atomic: on failure
    the exception propagates and the failing migration left nothing behind. The connection is
    set back to the public schema either way."""
    try:
        with migration_states_shared():
            return _schema_migrations_apply(schema_name, verbosity, stdout or sys.stdout)
    finally:
        tenant_connection.set_schema_to_public()


def _schema_migrations_apply(schema_name: str, verbosity: int, stdout: Output) -> int:
    wrapper = connections[DEFAULT_DB_ALIAS]
    tenant = cast(TenantConnection, wrapper)
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT to_regnamespace(%s)", [wrapper.ops.quote_name(schema_name)])
        if cursor.fetchone()[0] is None:
            raise CommandError(f'Schema "{schema_name}" does not exist')
    # The migrations table goes in the department's schema, never found in public (as
    # django-tenants does it).
    tenant.set_schema(schema_name, include_public=False)
    recorder = _SchemaRecorder(wrapper)
    recorder.ensure_schema()
    tenant.set_schema(schema_name)
    applied = frozenset(recorder.applied_migrations())
    prepared = _prepared_for(wrapper, applied)
    executor = _SchemaExecutor(wrapper, prepared.loader, recorder)
    targets = prepared.loader.graph.leaf_nodes()
    plan = executor.migration_plan(targets)
    if verbosity >= 1:
        executor.progress_callback = _Progress(stdout)
    # contenttypes' pre_migrate receiver adds an operation after each RenameModel to the
    # planned migrations, which this loader shares with the next schemas: undone afterwards.
    operations = [(migration, list(migration.operations)) for migration, _backwards in plan]
    try:
        pre_state = prepared.state.clone()
        emit_pre_migrate_signal(
            verbosity, False, wrapper.alias, stdout=stdout, apps=pre_state.apps, plan=plan
        )
        post_state = executor.migrate(targets, plan=plan, state=pre_state)
    finally:
        for migration, original in operations:
            current = migration.operations
            if isinstance(current, list):  # Migration.__init__ makes it one
                current[:] = original
    # As Django's migrate: the models of the apps without migrations, rendered with their
    # relations for the post_migrate receivers.
    post_state.clear_delayed_apps_cache()
    post_apps = post_state.apps
    with post_apps.bulk_update():
        model_keys = []
        for model_state in post_apps.real_models:
            model_key = model_state.app_label, model_state.name_lower
            model_keys.append(model_key)
            post_apps.unregister_model(*model_key)
    post_apps.render_multiple(
        [ModelState.from_model(apps.get_model(*model_key)) for model_key in model_keys]
    )
    if not _post_migrate_would_change_nothing(wrapper, post_apps):
        emit_post_migrate_signal(
            verbosity, False, wrapper.alias, stdout=stdout, apps=post_apps, plan=plan
        )
    return len(plan)


def schema_migrate(schema_name: str, verbosity: int = 0) -> SchemaMigrated:
    """Apply every missing migration to one department's schema, on the current connection (the
    owner's: see platform_setup); never raises. A failed migration is rolled back by
    PostgreSQL (each one is atomic), and the connection is closed so that its aborted transaction
    cannot reach the next department."""
    started = time.perf_counter()
    try:
        applied = schema_migrations_apply(schema_name, verbosity=verbosity, stdout=io.StringIO())
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
    with migration_states_shared():
        return _department_schemas_migrate(
            schemas=schemas, processes=processes, verbosity=verbosity, progress=progress
        )


def _department_schemas_migrate(
    *,
    schemas: Sequence[str],
    processes: int,
    verbosity: int,
    progress: Callable[[int, int, SchemaMigrated], None] | None,
) -> list[SchemaMigrated]:
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
