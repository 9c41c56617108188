"""Where a department's files live, and how they are handed out and removed.

Two storages (STORAGES in settings): "default", public, holds only logos, each city's under
`logos/<schema>/`; "evidence", private, holds everything else (footage clips, import files,
department archives), each city's under `<schema>/`, never under a public URL. A private file
is handed out only by an audited service, through `private_file_open`, which refuses a name
outside the city it is asked for.
"""

from __future__ import annotations

import errno
import logging
import os
import re
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from boto3.exceptions import Boto3Error
from botocore.exceptions import BotoCoreError, ClientError
from django.core.files import File, locks
from django.core.files.storage import FileSystemStorage, Storage, storages
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from prometheus_client import Counter
from storages.backends.s3 import S3Storage

logger = logging.getLogger(__name__)

PUBLIC_STORAGE = "default"
PRIVATE_STORAGE = "evidence"
LOGO_FOLDER = "logos"
# How long a signed URL to a private file works: long enough to start the download.
SIGNED_URL_SECONDS = 60
# A schema name as django-tenants accepts one; anything else never names a folder here.
_SCHEMA_NAME = re.compile(r"^[a-z0-9_][a-z0-9_-]{0,62}$")
_LEGACY_LOGO_EXTENSIONS = ("png", "jpg", "jpeg", "webp")


class PrivateS3Storage(S3Storage):
    """The private bucket (STORAGE_BACKEND=s3): each object is tagged with its kind, the folder
    after the city's (`canvass-kind=footage`, `imports`, `exports`), so that a bucket lifecycle
    rule, which filters by a fixed prefix or by tag, reaches one kind in every city's folder
    (infra/s3/private-bucket-lifecycle.json)."""

    def get_object_parameters(self, name: str) -> dict[str, Any]:
        parameters: dict[str, Any] = super().get_object_parameters(name)
        parts = name.split("/")
        if len(parts) > 2:
            parameters["Tagging"] = urlencode({"canvass-kind": parts[1]})
        return parameters


# The hidden name a file has while AtomicFileSystemStorage writes it: PARTIAL_PREFIX, its name.
PARTIAL_PREFIX = ".partial-"


class AtomicFileSystemStorage(FileSystemStorage):
    """Django's file system storage, except that a file is either stored whole or not at all.

    Django's own `_save` writes straight into the final name, so a disk that fills up half way
    leaves a truncated file behind under a name no row refers to. Here the bytes go to a hidden
    temporary file in the same folder first (flushed and synced), which is then hard-linked
    under the final name (O_EXCL semantics: an existing name picks another, as Django does)
    and removed; whatever fails, the temporary file is removed and nothing is left."""

    def _save(self, name: str, content: File) -> str:
        full_path = self.path(name)
        directory = os.path.dirname(full_path)
        os.makedirs(directory, exist_ok=True)
        # Created as Django creates a stored file (0666 less the umask), under a hidden name
        # that starts with PARTIAL_PREFIX and the file's own name: what a process killed while
        # writing leaves can be told apart and found by whoever cleans up after that file.
        partial = os.path.join(
            directory, f"{PARTIAL_PREFIX}{os.path.basename(full_path)}.{uuid.uuid4().hex}"
        )
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        try:
            with os.fdopen(descriptor, "wb") as target:
                locks.lock(target, locks.LOCK_EX)
                for chunk in content.chunks():
                    target.write(chunk.encode() if isinstance(chunk, str) else chunk)
                target.flush()
                os.fsync(target.fileno())
            while True:
                try:
                    os.link(partial, full_path)
                except FileExistsError:
                    name = self.get_available_name(name)
                    full_path = self.path(name)
                else:
                    break
        finally:
            os.unlink(partial)
        if self.file_permissions_mode is not None:
            os.chmod(full_path, self.file_permissions_mode)
        name = os.path.relpath(full_path, self.location)
        self._ensure_location_group_id(full_path)  # type: ignore[attr-defined]
        return str(name).replace("\\", "/")


# --- Storage failures: a clear message for the user, a log line and a metric for the operator --
STORAGE_FAILURES = Counter(
    "canvass_storage_failures_total",
    "Storage operations that failed (S3 unreachable or erroring, a full disk, an I/O error), "
    "by operation.",
    ["operation"],
)
ORPHANS_LEFT = Counter(
    "canvass_storage_orphans_total",
    "Files stored for a row that was never written, which could not be deleted at once "
    "(logged with their names as storage_orphan).",
)
# What a storage raises when it does not answer or cannot keep a file: the file system's errors
# (ENOSPC, EDQUOT, EIO, a missing mount), botocore's (no connection, timeouts, 5xx after
# retries) and boto3's (an upload that failed).
STORAGE_ERRORS: tuple[type[BaseException], ...] = (OSError, BotoCoreError, ClientError, Boto3Error)
_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
# What a page refused for a storage failure (503) puts in Retry-After, in seconds.
STORAGE_RETRY_AFTER = 120


class StorageUnavailable(Exception):
    """A storage could not do what it was asked (store, read or find a file): nothing was
    stored or handed out. `kind` is "full" (no space left), "missing" (no such file) or
    "unreachable" (anything else: S3 not answering, an I/O error); `message` is for the user,
    in their language."""

    def __init__(self, *, operation: str, name: str, kind: str) -> None:
        super().__init__(f"storage {operation} failed ({kind}): {name}")
        self.operation, self.name, self.kind = operation, name, kind

    @property
    def message(self) -> str:
        if self.operation == "save":
            return _(
                "Your file could not be stored just now: our file storage is not available. "
                "Nothing was kept. Please try again in a few minutes."
            )
        return _(
            "This file cannot be read just now: our file storage is not available. Please try "
            "again in a few minutes, and tell your administrator if it keeps happening."
        )


def storage_failure_kind(error: BaseException) -> str:
    """How a storage error reads for the operator: full, missing or unreachable."""
    if isinstance(error, OSError) and error.errno in _FULL:
        return "full"
    if isinstance(error, FileNotFoundError):
        return "missing"
    if isinstance(error, ClientError):
        code = str(error.response.get("Error", {}).get("Code", ""))
        if code in {"404", "NoSuchKey", "NotFound"}:
            return "missing"
    return "unreachable"


@contextmanager
def storage_guard(operation: str, name: str) -> Iterator[None]:
    """Run a storage call, turning its failure into StorageUnavailable (logged as
    `storage_failure` with the operation, the kind and the file's name, and counted in
    canvass_storage_failures_total). Names are storage names (a city's prefix, a digest or a
    random name), never personal data."""
    try:
        yield
    except STORAGE_ERRORS as error:
        kind = storage_failure_kind(error)
        STORAGE_FAILURES.labels(operation=operation).inc()
        logger.error(
            "storage_failure operation=%s kind=%s name=%s error=%s",
            operation,
            kind,
            name,
            type(error).__name__,
        )
        raise StorageUnavailable(operation=operation, name=name, kind=kind) from error


def file_store(storage: Storage, name: str, content: File) -> str:
    """Store a file and return the name it got; StorageUnavailable when the storage fails
    (nothing is left behind: S3 keeps no object of a failed upload, AtomicFileSystemStorage no
    partial file)."""
    with storage_guard("save", name):
        return storage.save(name, content)


def file_discard(storage: Storage, name: str) -> bool:
    """Delete a file stored for a row that was not written. Never raises: when the storage
    fails now too, the file is logged as `storage_orphan` (and counted) for the operator, and
    the error that made the row fail is the one the caller sees. Returns whether it went."""
    try:
        storage.delete(name)
    except STORAGE_ERRORS as error:
        ORPHANS_LEFT.inc()
        logger.error("storage_orphan name=%s error=%s", name, type(error).__name__)
        return False
    return True


# The files stored inside the current `new_files_discarded_on_failure` block, if any.
_NEW_FILES: ContextVar[list[tuple[Storage, str]] | None] = ContextVar("new_files", default=None)


@contextmanager
def new_files_discarded_on_failure() -> Iterator[None]:
    """Around a transaction that stores a file before writing the row naming it, when the row
    is saved by a caller further out (a logo on a branding): the files noted inside
    (`new_file_note`) are deleted if the block fails, so a rollback leaves no file behind. A
    block that succeeds inside another hands its files to the outer one (whose transaction may
    still roll back)."""
    token = _NEW_FILES.set([])
    try:
        yield
    except BaseException:
        for storage, name in _NEW_FILES.get() or []:
            file_discard(storage, name)
        raise
    else:
        outer = token.old_value
        if isinstance(outer, list):
            outer.extend(_NEW_FILES.get() or [])
    finally:
        _NEW_FILES.reset(token)


def new_file_note(storage: Storage, name: str) -> None:
    """A file just stored whose row is not committed yet: deleted if the enclosing
    `new_files_discarded_on_failure` block fails (nothing happens outside one)."""
    noted = _NEW_FILES.get()
    if noted is not None:
        noted.append((storage, name))


def public_storage() -> Storage:
    """Logos: public URLs (a public-read bucket or folder)."""
    return storages[PUBLIC_STORAGE]


def private_storage() -> Storage:
    """Clips, import files, department archives: read only through audited views."""
    return storages[PRIVATE_STORAGE]


class ForeignFile(Exception):
    """A stored name outside the department it was asked for: never handed out."""


def is_department_schema_name(name: str) -> bool:
    """Whether `name` could be a department's schema (and so a folder of its files)."""
    return bool(_SCHEMA_NAME.match(name or "")) and name != "public"


def department_prefix(schema_name: str) -> str:
    """The folder of a department's private files: `<schema>/`. Refuses anything that is not
    a schema name (an empty name would be every city's files)."""
    if not is_department_schema_name(schema_name):
        raise ValueError(f"not a department's schema name: {schema_name!r}")
    return f"{schema_name}/"


def logo_prefix(schema_name: str) -> str:
    """The folder of a department's logos in public storage: `logos/<schema>/`."""
    return f"{LOGO_FOLDER}/{department_prefix(schema_name)}"


def in_department(schema_name: str, name: str) -> bool:
    """Whether a stored private name lies under the department's own folder (no `..`)."""
    prefix = department_prefix(schema_name)
    return name.startswith(prefix) and ".." not in name.split("/") and "\\" not in name


@dataclass(frozen=True)
class PrivateFile:
    """A private file on its way to someone: streamed from storage, or a signed URL to it."""

    download_name: str
    content_type: str
    stream: File | None = None
    url: str | None = None
    # Shown in the browser (an image or video preview) rather than saved as an attachment.
    inline: bool = False


def private_file_open(
    *,
    schema_name: str,
    name: str,
    download_name: str,
    content_type: str,
    inline: bool = False,
) -> PrivateFile:
    """Hand out a department's private file, after the caller recorded it: on S3 a URL signed
    for SIGNED_URL_SECONDS that forces an attachment (or, `inline`, shows it as its type),
    otherwise the open file to stream. A name outside the department's folder raises
    ForeignFile, whatever the row that holds it says."""
    if not in_department(schema_name, name):
        raise ForeignFile(name)
    storage = private_storage()
    if isinstance(storage, S3Storage):
        # A signed URL is made without asking S3 anything; ask first whether the object is
        # there, so that an unreachable storage or a lost object is said on our page instead
        # of a browser's connection error at the redirect (StorageUnavailable).
        with storage_guard("open", name):
            found = storage.exists(name)
        if not found:
            STORAGE_FAILURES.labels(operation="open").inc()
            logger.error("storage_failure operation=open kind=missing name=%s", name)
            raise StorageUnavailable(operation="open", name=name, kind="missing")
        disposition = content_disposition_header(as_attachment=not inline, filename=download_name)
        url = storage.url(
            name,
            parameters={
                "ResponseContentDisposition": disposition,
                "ResponseContentType": content_type,
                "ResponseCacheControl": "no-store",
            },
            expire=SIGNED_URL_SECONDS,
        )
        return PrivateFile(download_name, content_type, url=url, inline=inline)
    with storage_guard("open", name):
        stream = storage.open(name, "rb")
    return PrivateFile(download_name, content_type, stream=stream, inline=inline)


def _is_s3(storage: Storage) -> bool:
    return isinstance(storage, S3Storage)


def stored_names(storage: Storage, folder: str) -> Iterator[str]:
    """Every file's name under a folder of a storage, however deep (file system or S3)."""
    folder = folder.rstrip("/")
    try:
        if not _is_s3(storage) and not storage.exists(folder):
            return
        directories, files = storage.listdir(folder)
    except FileNotFoundError:
        return
    for filename in files:
        yield f"{folder}/{filename}"
    for directory in directories:
        yield from stored_names(storage, f"{folder}/{directory}")


def department_files_delete(schema_name: str) -> int:
    """Remove every file a department has: everything under `<schema>/` in private storage and
    under `logos/<schema>/` in public storage (and a logo stored before logos had a folder per
    city, `logos/<schema>.<ext>`). Returns how many files went; safe to run again. Called when
    a department is deleted, after its rows are gone."""
    removed = 0
    folders = [
        (private_storage(), department_prefix(schema_name)),
        (public_storage(), logo_prefix(schema_name)),
    ]
    for storage, folder in folders:
        for name in list(stored_names(storage, folder)):
            storage.delete(name)
            removed += 1
        _empty_folders_remove(storage, folder)
    public = public_storage()
    for extension in _LEGACY_LOGO_EXTENSIONS:
        legacy = f"{LOGO_FOLDER}/{schema_name}.{extension}"
        if public.exists(legacy):
            public.delete(legacy)
            removed += 1
    return removed


def _empty_folders_remove(storage: Storage, folder: str) -> None:
    """On a file system the folders stay behind when their files are deleted; S3 has none."""
    if _is_s3(storage):
        return
    try:
        path = Path(storage.path(folder.rstrip("/")))
    except NotImplementedError:
        return
    if path.is_dir() and not any(item.is_file() for item in path.rglob("*")):
        shutil.rmtree(path, ignore_errors=True)
