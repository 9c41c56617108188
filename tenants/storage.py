"""Where a department's files live, and how they are handed out and removed.

Two storages (STORAGES in settings): "default", public, holds only logos, each city's under
`logos/<schema>/`; "evidence", private, holds everything else (footage clips, import files,
department archives), each city's under `<schema>/`, never under a public URL. A private file
is handed out only by an audited service, through `private_file_open`, which refuses a name
outside the city it is asked for.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from django.core.files import File
from django.core.files.storage import Storage, storages
from django.utils.http import content_disposition_header
from storages.backends.s3 import S3Storage

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


def public_storage() -> Storage:
    """Logos: public URLs (a public-read bucket or folder)."""
    return storages[PUBLIC_STORAGE]


def private_storage() -> Storage:
    """Clips, import files, department archives: read only through audited views."""
    return storages[PRIVATE_STORAGE]


class ForeignFile(Exception):
    """A stored name outside the department it was asked for: never handed out."""


def department_prefix(schema_name: str) -> str:
    """The folder of a department's private files: `<schema>/`. Refuses anything that is not
    a schema name (an empty name would be every city's files)."""
    if not _SCHEMA_NAME.match(schema_name or "") or schema_name == "public":
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


def private_file_open(
    *, schema_name: str, name: str, download_name: str, content_type: str
) -> PrivateFile:
    """Hand out a department's private file, after the caller recorded it: on S3 a URL signed
    for SIGNED_URL_SECONDS that forces an attachment, otherwise the open file to stream. A name
    outside the department's folder raises ForeignFile, whatever the row that holds it says."""
    if not in_department(schema_name, name):
        raise ForeignFile(name)
    storage = private_storage()
    if isinstance(storage, S3Storage):
        disposition = content_disposition_header(as_attachment=True, filename=download_name)
        url = storage.url(
            name,
            parameters={
                "ResponseContentDisposition": disposition,
                "ResponseContentType": content_type,
                "ResponseCacheControl": "no-store",
            },
            expire=SIGNED_URL_SECONDS,
        )
        return PrivateFile(download_name, content_type, url=url)
    return PrivateFile(download_name, content_type, stream=storage.open(name, "rb"))


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
