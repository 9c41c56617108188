"""department_files_delete removes every file of one department, in both storages, and nothing
of another, even one whose name starts the same; on the file system and on S3 alike."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import Storage
from django.test import override_settings

from tenants.storage import department_files_delete, private_storage, public_storage
from tests.storage.s3 import PRIVATE_BUCKET, PUBLIC_BUCKET, S3Server

FILES = {
    # (storage, name)
    ("private", "concord/footage/7/a.mp4"),
    ("private", "concord/imports/b.csv"),
    ("private", "concord/exports/c.zip"),
    ("public", "logos/concord/logo.png"),
    ("public", "logos/concord.png"),  # a logo stored before logos had a folder per city
    # Not Concord's: another city, and one whose name starts with Concord's.
    ("private", "carrollton/footage/7/a.mp4"),
    ("private", "concordia/footage/7/a.mp4"),
    ("public", "logos/carrollton/logo.png"),
    ("public", "logos/concordia/logo.png"),
    ("public", "logos/concordia.png"),
}
CONCORDS = {item for item in FILES if item[1].startswith(("concord/", "logos/concord/"))} | {
    ("public", "logos/concord.png")
}


def storage_of(kind: str) -> Storage:
    return private_storage() if kind == "private" else public_storage()


def files_write() -> None:
    for kind, name in FILES:
        assert storage_of(kind).save(name, ContentFile(b"x")) == name


def files_left() -> set[tuple[str, str]]:
    return {(kind, name) for kind, name in FILES if storage_of(kind).exists(name)}


@pytest.fixture
def file_system(tmp_path: Path) -> Iterator[Path]:
    storages = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "media")},
        },
        "evidence": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "private"), "base_url": None},
        },
    }
    with override_settings(STORAGES=storages):
        yield tmp_path


def test_on_the_file_system_only_the_departments_files_and_folders_go(file_system: Path):
    files_write()
    assert department_files_delete("concord") == len(CONCORDS)
    assert files_left() == FILES - CONCORDS
    assert not (file_system / "private" / "concord").exists()
    assert not (file_system / "media" / "logos" / "concord").exists()
    assert department_files_delete("concord") == 0


def test_on_s3_only_the_departments_objects_go(s3_storages: S3Server):
    files_write()
    assert department_files_delete("concord") == len(CONCORDS)
    assert files_left() == FILES - CONCORDS
    assert all(not key.startswith("concord/") for key in s3_storages.keys(PRIVATE_BUCKET))
    assert "logos/concordia.png" in s3_storages.keys(PUBLIC_BUCKET)
    assert department_files_delete("concord") == 0


@pytest.mark.parametrize("name", ["", "public", "concord/..", "../concord", "a/b", "*"])
def test_what_is_not_a_department_is_refused(file_system: Path, name: str):
    files_write()
    with pytest.raises(ValueError, match="not a department's schema name"):
        department_files_delete(name)
    assert files_left() == FILES
