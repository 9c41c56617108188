"""A department's whole archive, for the vendor console: every table of its schema as JSON and
CSV, its own rows of the platform's tables, and its files (logo, clips, imports), in one zip in
private storage under `<schema>/exports/`, built in the background (console.tasks). Secrets are
left out and listed in the archive's README.txt. Requests and downloads are recorded in the
platform audit log."""

from __future__ import annotations

import functools
import io
import json
import logging
import shutil
import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import IO, Any

from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.files import File
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.utils import timezone
from django_tenants.utils import schema_context, schema_exists

from console.audit import platform_audit_record
from console.models import DepartmentExport, PlatformAuditEntry
from portal.registry.csv_safe import SafeWriter
from tenants.db import session_lock
from tenants.models import Branding, Department, Domain, Program
from tenants.storage import (
    PARTIAL_PREFIX,
    PrivateFile,
    department_prefix,
    private_file_open,
    private_storage,
    public_storage,
    stored_names,
)

logger = logging.getLogger(__name__)

EXPORT_FOLDER = "exports"
# What an archive never holds: tables and columns of secrets, with the reason README.txt gives.
EXCLUDED_TABLES = {
    "django_session": "signed-in sessions (session keys and their data)",
}
EXCLUDED_COLUMNS = {
    ("auth_user", "password"): "password hashes",
    ("mfa_authenticator", "data"): (
        "second-factor secrets (authenticator app keys, recovery code seeds, security keys)"
    ),
    ("account_emailconfirmation", "key"): "email confirmation keys",
    ("liveview_device", "credential_hash"): "device credential hashes",
    ("liveview_claimcode", "code_hash"): "device claim code hashes",
}
# A build still pending this long after its request lost its task (a broker restarted empty).
STALE_AFTER = timedelta(hours=6)
ABANDONED = "The build did not finish (its worker stopped); nothing was kept. Request a new export."
_ROWS_PER_QUERY = 2000


def department_export_request(
    *, actor: AbstractBaseUser | AnonymousUser, department: Department
) -> tuple[DepartmentExport, bool]:
    """Ask for a department's archive (recorded in the platform audit log); the caller queues
    `department_export_build`. While one is waiting or being built, that one is returned and
    nothing new is started: (export, False)."""
    with transaction.atomic():
        # Two requests at once: the second waits here, then finds the first.
        Department.objects.select_for_update().filter(pk=department.pk).first()
        waiting = DepartmentExport.objects.filter(
            department=department,
            status__in=[DepartmentExport.Status.PENDING, DepartmentExport.Status.RUNNING],
        ).first()
        if waiting is not None:
            return waiting, False
        user = actor if actor.is_authenticated else None
        export = DepartmentExport.objects.create(
            department=department,
            department_name=department.name,
            department_schema=department.schema_name,
            requested_by_id=getattr(user, "pk", None),
            requested_by_email=getattr(user, "email", "") or "",
        )
        platform_audit_record(
            actor=actor,
            action=PlatformAuditEntry.Action.DEPARTMENT_EXPORT,
            department=department,
            detail={"export": export.pk},
        )
    return export, True


def department_export_build(*, export_id: int) -> DepartmentExport | None:
    """Build a requested archive (the background job). Safe to run twice or in two workers at
    once: the build holds the export's lock (build_lock) throughout, and only a pending export,
    or a running one whose builder died (its lock free: a worker killed mid-way, the task
    delivered again), is built; the second starts over and first removes what the dead one had
    written. A department deleted, or whose schema is gone, is skipped with the reason on the
    export; a failure marks the export failed with the error and leaves no file."""
    with build_lock(export_id) as held:
        if not held:
            # Another worker is building it (a task delivered twice): it says how it went.
            return DepartmentExport.objects.filter(pk=export_id).first()
        return _build(export_id)


@contextmanager
def build_lock(export_id: int) -> Iterator[bool]:
    """Whether this process holds the export's build lock: a PostgreSQL advisory lock on its
    connection's session, which the database releases when the process dies, so a running
    export whose lock is free was left by a dead worker (no heartbeat or expiry to guess)."""
    with session_lock(f"canvass-export-build:{export_id}") as held:
        yield held


def _build(export_id: int) -> DepartmentExport | None:
    with transaction.atomic():
        export = (
            DepartmentExport.objects.select_for_update(of=("self",))
            .select_related("department__branding")
            .filter(pk=export_id)
            .first()
        )
        if export is None:
            logger.warning("Department export %s no longer exists; skipped.", export_id)
            return None
        if export.status == DepartmentExport.Status.RUNNING:
            # We hold its lock: the worker that was building it died. Start over.
            logger.warning(
                "Department export %s: its build stopped with its worker; building it again.",
                export_id,
            )
            _leftovers_delete(export)
        elif export.status != DepartmentExport.Status.PENDING:
            return export
        problem = _department_gone(export)
        if problem:
            logger.warning("Department export %s skipped: %s", export_id, problem)
            export.status, export.error = DepartmentExport.Status.FAILED, problem
            export.finished_at = timezone.now()
            export.save(update_fields=["status", "error", "finished_at"])
            return export
        export.status, export.started_at = DepartmentExport.Status.RUNNING, timezone.now()
        export.save(update_fields=["status", "started_at"])

    storage = private_storage()
    stored = ""
    try:
        with tempfile.TemporaryFile() as spool:
            _archive_write(spool, export)
            size = spool.tell()
            spool.seek(0)
            target = (
                f"{department_prefix(export.department_schema)}{EXPORT_FOLDER}/"
                f"{export.pk}-{timezone.now():%Y%m%d-%H%M%S}.zip"
            )
            try:
                stored = storage.save(target, File(spool, name=target))
            finally:
                # A file system write that failed halfway leaves its part behind.
                if not stored and storage.exists(target):
                    storage.delete(target)
        with transaction.atomic():
            updated = DepartmentExport.objects.filter(
                pk=export.pk, status=DepartmentExport.Status.RUNNING
            ).update(
                status=DepartmentExport.Status.READY,
                file_name=stored,
                size=size,
                finished_at=timezone.now(),
            )
            if not updated:
                raise RuntimeError("the export was changed while it was being built")
    except Exception as error:
        logger.exception("Department export %s failed", export.pk)
        if stored:
            storage.delete(stored)
        DepartmentExport.objects.filter(pk=export.pk).update(
            status=DepartmentExport.Status.FAILED,
            error=f"The archive could not be built: {error}",
            file_name="",
            finished_at=timezone.now(),
        )
    export.refresh_from_db()
    return export


def department_export_open(
    *, actor: AbstractBaseUser | AnonymousUser, export: DepartmentExport
) -> PrivateFile:
    """Hand a ready archive to vendor staff, recorded in the platform audit log first: on S3 a
    URL signed for a minute, otherwise the open file to stream."""
    if export.status != DepartmentExport.Status.READY or not export.file_name:
        raise DepartmentExport.DoesNotExist(f"export {export.pk} is not ready")
    with transaction.atomic():
        platform_audit_record(
            actor=actor,
            action=PlatformAuditEntry.Action.DEPARTMENT_EXPORT_DOWNLOAD,
            department=export.department,
            detail={"export": export.pk, "size": export.size},
        )
    return private_file_open(
        schema_name=export.department_schema,
        name=export.file_name,
        download_name=export.download_name,
        content_type="application/zip",
    )


def department_exports_sweep(*, now: datetime | None = None) -> int:
    """Delete the files of archives built more than DEPARTMENT_EXPORT_KEEP_DAYS ago (the rows
    stay, marked expired), and mark failed any build a dead worker left unfinished. Returns
    how many archives were removed; safe to run again and in two processes at once."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.DEPARTMENT_EXPORT_KEEP_DAYS)
    removed = 0
    old = DepartmentExport.objects.filter(
        status=DepartmentExport.Status.READY, finished_at__lt=cutoff
    ).values_list("pk", flat=True)
    for export_id in list(old):
        with transaction.atomic():
            export = (
                DepartmentExport.objects.select_for_update(skip_locked=True)
                .filter(pk=export_id, status=DepartmentExport.Status.READY)
                .first()
            )
            if export is None:
                continue
            name = export.file_name
            export.status, export.file_name = DepartmentExport.Status.EXPIRED, ""
            export.save(update_fields=["status", "file_name"])
            transaction.on_commit(functools.partial(private_storage().delete, name))
            removed += 1
    # Builds whose worker died (their lock is free) and whose task did not come back within
    # the broker's redelivery time (lost with a restarted broker): failed, their part removed.
    abandoned = DepartmentExport.objects.filter(
        status=DepartmentExport.Status.RUNNING,
        started_at__lt=now - timedelta(seconds=settings.TASK_REDELIVERY_SECONDS),
    )
    for export in list(abandoned):
        with build_lock(export.pk) as held:
            if not held:
                continue  # still being built
            if DepartmentExport.objects.filter(
                pk=export.pk, status=DepartmentExport.Status.RUNNING
            ).update(status=DepartmentExport.Status.FAILED, error=ABANDONED, finished_at=now):
                _leftovers_delete(export)
    DepartmentExport.objects.filter(
        status=DepartmentExport.Status.PENDING, created_at__lt=now - STALE_AFTER
    ).update(status=DepartmentExport.Status.FAILED, error=ABANDONED, finished_at=now)
    return removed


def _department_gone(export: DepartmentExport) -> str:
    """Why a department's export cannot be built any more, or ""."""
    if export.department is None:
        return (
            f"The department {export.department_name} ({export.department_schema}) was "
            "deleted before its export was built; nothing was exported."
        )
    if not schema_exists(export.department_schema):
        return (
            f"The data of {export.department_name} ({export.department_schema}) is gone (its "
            "schema no longer exists); nothing was exported."
        )
    return ""


def _leftovers_delete(export: DepartmentExport) -> int:
    """Delete the files a dead build of `export` left in storage (an archive written in part,
    or written whole but never recorded as ready): every `<schema>/exports/<id>-*` but the
    export's own recorded file, and the hidden part of one a killed process was writing
    (local storage: `.partial-<id>-*`). Returns how many."""
    folder = f"{department_prefix(export.department_schema)}{EXPORT_FOLDER}/"
    storage = private_storage()
    removed = 0
    for name in list(stored_names(storage, folder)):
        mine = (f"{folder}{export.pk}-", f"{folder}{PARTIAL_PREFIX}{export.pk}-")
        if name != export.file_name and name.startswith(mine):
            storage.delete(name)
            removed += 1
    if removed:
        logger.warning("Department export %s: %d unfinished file(s) removed", export.pk, removed)
    return removed


# --- The archive ------------------------------------------------------------------------------


@dataclass
class Contents:
    """What went into an archive, for its README.txt."""

    tables: list[tuple[str, int]] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    columns_left_out: list[tuple[str, str, str]] = field(default_factory=list)


def tenant_models() -> Iterator[type[models.Model]]:
    """Every model with a table in a department's schema (TENANT_APPS), many-to-many tables
    included, each once."""
    tenant_apps = set(settings.TENANT_APPS)
    seen: set[str] = set()
    for app_config in apps.get_app_configs():
        if app_config.name not in tenant_apps:
            continue
        for model in app_config.get_models(include_auto_created=True):
            meta = model._meta
            if meta.proxy or not meta.managed or meta.db_table in seen:
                continue
            seen.add(meta.db_table)
            yield model


def _archive_write(spool: IO[bytes], export: DepartmentExport) -> None:
    department = export.department
    assert department is not None
    contents = Contents()
    with zipfile.ZipFile(spool, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        with schema_context(department.schema_name):
            for model in sorted(tenant_models(), key=lambda model: model._meta.db_table):
                table = model._meta.db_table
                if table in EXCLUDED_TABLES:
                    continue
                rows = _table_write(
                    archive, f"tables/{table}", model, model._base_manager.all(), contents
                )
                contents.tables.append((table, rows))
        # The department's own rows of the platform's tables (public schema).
        for model, queryset in (
            (Department, Department.objects.filter(pk=department.pk)),
            (Domain, Domain.objects.filter(tenant=department)),
            (Branding, Branding.objects.filter(department=department)),
            (Program, Program.objects.filter(department=department)),
        ):
            table = model._meta.db_table
            rows = _table_write(archive, f"platform/{table}", model, queryset, contents)
            contents.tables.append((f"platform/{table}", rows))
        _files_write(archive, department, contents)
        archive.writestr("README.txt", _readme(export, contents))


def _table_write(
    archive: zipfile.ZipFile,
    stem: str,
    model: type[models.Model],
    queryset: models.QuerySet[Any],
    contents: Contents,
) -> int:
    """One table as `<stem>.json` (a list of objects) and `<stem>.csv` (with a header row),
    read in chunks, secrets left out; returns the number of rows."""
    table = model._meta.db_table
    fields = []
    for column in model._meta.concrete_fields:
        reason = EXCLUDED_COLUMNS.get((table, column.column))
        if reason:
            contents.columns_left_out.append((table, column.column, reason))
        else:
            fields.append(column)
    names = [column.column for column in fields]
    rows = 0
    # A zip takes one entry at a time: the CSV waits in a spool while the JSON is written.
    with (
        tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024) as csv_spool,
        archive.open(f"{stem}.json", "w") as json_file,
    ):
        json_text = io.TextIOWrapper(json_file, encoding="utf-8", newline="")
        csv_text = io.TextIOWrapper(csv_spool, encoding="utf-8", newline="")
        writer = SafeWriter(csv_text)
        writer.writerow(names)
        json_text.write("[")
        values = queryset.order_by("pk").values_list(*[column.attname for column in fields])
        for row in values.iterator(chunk_size=_ROWS_PER_QUERY):
            record = dict(zip(names, row, strict=True))
            json_text.write(("," if rows else "") + "\n" + _json(record))
            writer.writerow(_csv_cell(value) for value in row)
            rows += 1
        json_text.write("\n]\n")
        json_text.flush()
        json_text.detach()
        csv_text.flush()
        csv_text.detach()
        json_file.close()
        csv_spool.seek(0)
        with archive.open(f"{stem}.csv", "w") as csv_file:
            shutil.copyfileobj(csv_spool, csv_file)
    return rows


def _json(value: object) -> str:
    return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False)


def _csv_cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, (list, dict)):
        return _json(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _files_write(archive: zipfile.ZipFile, department: Department, contents: Contents) -> None:
    """The logo (public storage) and every private file under the department's folder but
    earlier archives, under `files/`."""
    logo = getattr(department, "branding", None) and department.branding.logo
    if logo and logo.name:
        target = f"files/logo/{logo.name.split('/')[-1]}"
        if public_storage().exists(logo.name):
            _file_copy(archive, public_storage(), logo.name, target)
            contents.files.append(target)
        else:
            contents.files.append(f"{target} (missing from storage: {logo.name})")
    prefix = department_prefix(department.schema_name)
    storage = private_storage()
    for name in _private_names(prefix):
        target = f"files/{name.removeprefix(prefix)}"
        _file_copy(archive, storage, name, target)
        contents.files.append(target)


def _private_names(prefix: str) -> Iterable[str]:
    earlier = f"{prefix}{EXPORT_FOLDER}/"
    for name in sorted(stored_names(private_storage(), prefix)):
        if not name.startswith(earlier):
            yield name


def _file_copy(archive: zipfile.ZipFile, storage: Any, name: str, target: str) -> None:
    with storage.open(name, "rb") as source, archive.open(target, "w") as copy:
        for chunk in iter(lambda: source.read(1024 * 1024), b""):
            copy.write(chunk)


def _readme(export: DepartmentExport, contents: Contents) -> str:
    lines = [
        f"Canvass: everything {export.department_name} holds",
        "",
        f"Department: {export.department_name} (schema {export.department_schema})",
        f"Export: {export.pk}, requested by {export.requested_by_email or 'the platform'} "
        f"at {export.created_at:%Y-%m-%d %H:%M} UTC, built at {timezone.now():%Y-%m-%d %H:%M} UTC",
        "",
        "tables/<table>.json and tables/<table>.csv: every table of the department's own",
        "database schema, one JSON list of objects and one CSV file (with a header row) each;",
        "CSV text cells that a spreadsheet would run as a formula start with '.",
        "platform/<table>.*: the department's own rows of the platform's tables (the department,",
        "its domains, branding and programme settings).",
        "files/: the department's logo, footage clips and import files, as stored.",
        "",
        "Tables (rows):",
        *(f"  {table}: {rows}" for table, rows in contents.tables),
        "",
        "Left out on purpose (secrets, never exported):",
        *(f"  table {table}: {reason}" for table, reason in EXCLUDED_TABLES.items()),
        *(
            f"  column {table}.{column}: {reason}"
            for table, column, reason in sorted(set(contents.columns_left_out))
        ),
        "  earlier export archives (files/exports/)",
        "Not included: the vendor's own records about the department (billing, the platform",
        "audit log), which the vendor keeps.",
        "",
        f"Files ({len(contents.files)}):",
        *(f"  {name}" for name in contents.files),
        "",
    ]
    return "\n".join(lines)
