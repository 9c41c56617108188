"""A department provisioned the way a program request's approval does (its first administrator
invited, no password), with that administrator signed in after setting a second factor."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from allauth.mfa.totp.internal.auth import TOTP
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django_tenants.utils import schema_context

from portal.registry.registry_io import COLUMNS
from tenants.services import department_provision
from tests.conftest import TOTP_SECRET
from tests.registry.test_registry_io import ROW
from tests.tenants.springfield import SPRINGFIELD

# Two new cities; their checklist rows, staff and imports have the same ids.
SPRINGFIELD_INVITED = {k: v for k, v in SPRINGFIELD.items() if k != "administrator_password"}
SHELBYVILLE_INVITED = SPRINGFIELD_INVITED | {
    "subdomain": "shelbyville",
    "name": "Shelbyville Police Department",
    "city": "Shelbyville",
    "display_name": "Shelbyville Camera Registry",
    "center_latitude": 39.4064,
    "center_longitude": -88.7901,
    "administrator_email": "chief@shelbyville.example.org",
}


@dataclass
class NewCity:
    schema_name: str
    host: str
    client: Client
    email: str


@pytest.fixture
def provision_new(host_client: Callable[[str], Client]) -> Callable[..., NewCity]:
    """Provision a city with an invited administrator, then sign them in as after setting a
    password and an authenticator app. The test's transaction removes the schema again."""

    def make(values: dict[str, object]) -> NewCity:
        result = department_provision(**values)
        assert result.administrator_invited
        schema_name = result.department.schema_name
        with schema_context(schema_name):
            user = get_user_model().objects.get(email=values["administrator_email"])
            TOTP.activate(user, TOTP_SECRET)
            client = host_client(result.domain.domain)
            client.force_login(user)
        return NewCity(
            schema_name, result.domain.domain, client, str(values["administrator_email"])
        )

    return make


@pytest.fixture
def springfield(provision_new: Callable[..., NewCity]) -> NewCity:
    return provision_new(SPRINGFIELD_INVITED)


@pytest.fixture
def shelbyville(provision_new: Callable[..., NewCity]) -> NewCity:
    return provision_new(SHELBYVILLE_INVITED)


def springfield_csv() -> SimpleUploadedFile:
    """A two-camera spreadsheet of one Springfield business, as a department keeps it."""
    rows = [
        ROW
        | {
            "address": "800 E Monroe St, Springfield, IL",
            "latitude": "39.7990",
            "longitude": "-89.6440",
        },
    ]
    rows.append(rows[0] | {"camera_label": "Lot", "camera_sees": "parking"})
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return SimpleUploadedFile("cameras.csv", buffer.getvalue().encode(), content_type="text/csv")
