"""Zero 500s, proven by fuzzing: every form and upload of every audience (residents, an owner's
answer link, the department console, the vendor console, the sign-in pages) receives generated
and boundary values: empty, huge (100,000 characters), NUL and control characters, bytes that
are not UTF-8 (a lone surrogate's encoding), a list where one value is expected, nested JSON,
numbers at and beyond their limits, odd charsets and upload headers. Each answer must be a page,
a redirect or a 4xx, never a server error; a refused submission changes no row anywhere, and an
accepted one leaves whole data (a site always has a camera, a clip always has its file, a
department always has its domain, branding and program).

The list of forms is checked against the URLconfs: a route that accepts a POST and is not fuzzed
here fails test_every_route_that_accepts_a_post_is_fuzzed, so a new form cannot be skipped.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, quote_from_bytes

import pytest
from django.contrib.messages import ERROR, get_messages
from django.core.cache import cache
from django.db import connection, transaction
from django.http import HttpResponse
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django_tenants.utils import schema_context
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from psycopg import sql

from portal.registry import registry_io
from tests.conftest import incident_post_data, site_post_data

pytestmark = pytest.mark.django_db

TENANT_URLS = "canvass.urls_tenant"
PUBLIC_URLS = "canvass.urls_public"
CITY = "concord"

# ---------------------------------------------------------------------------------------------
# The values
# ---------------------------------------------------------------------------------------------

HUGE = "x" * 100_000
NESTED_JSON = '{"a": ' * 300 + "1" + "}" * 300
BOUNDARY_TEXT = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\x01\x02\x03\x1b[31m\x7f\x85",
    "\t\r\n\x0b\x0c",
    "\u202e\u200b\ufeff\u2028",
    "\U0001f4f9" * 50,
    HUGE,
    "é" * 60_000,
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    # Valid addresses at and beyond the lengths accounts keep (150 for a username, 254 in all).
    "a" * 138 + "@example.org",
    "a" * 139 + "@example.org",
    "a" * 64 + "@" + "b" * 63 + "." + "c" * 63 + "." + "d" * 57 + ".org",
    "%00%ff",
    "../../../etc/passwd",
    '=HYPERLINK("http://x")',
    "null",
    "[]",
    "{}",
    '{"a": [1, {"b": null}]}',
    NESTED_JSON,
    "[" * 5_000 + "]" * 5_000,
    # Numbers at and beyond their limits, and things that look like numbers.
    "0",
    "-1",
    "-0",
    "359",
    "360",
    "365",
    "366",
    "90.0000001",
    "-180.0000001",
    "1e309",
    "-1e309",
    "NaN",
    "Infinity",
    "-Infinity",
    "2147483648",
    "-2147483649",
    "9223372036854775808",
    "1" * 5_000,
    "0x1F",
    "١٢٣",
    "1_000",
    "5e-324",
    " 42 ",
    "true",
    "on",
    # Dates and times that do not exist or are out of range.
    "2026-02-30T25:61",
    "0001-01-01T00:00",
    "9999-12-31T23:59",
    "10000-01-01T00:00",
    "2026-11-20T21:00+99:00",
]
# Raw bytes spliced into an url-encoded body: a lone surrogate's UTF-8-style encoding, bytes that
# are not UTF-8, a truncated sequence, broken and NUL percent-escapes.
RAW_BYTES = [b"\xed\xa0\x80", b"\xff\xfe\x00", b"\xc3", b"%ED%A0%80", b"%FF", b"%00", b"%", b"%%zz"]
CHARSETS = ["utf-8", "latin-1", "utf-16", "x-no-such-charset", "utf-8" * 60, ""]
# Request bodies whose declared type does not hold: no boundary, a huge one, not a form at all.
CONTENT_TYPES = [
    "multipart/form-data",
    "multipart/form-data; boundary=",
    "multipart/form-data; boundary=" + "b" * 5_000,
    "application/json",
    "text/plain; charset=utf-8",
    "application/x-www-form-urlencoded" + "; x=y" * 2_000,
    "x" * 10_000,
]

scalars = st.one_of(
    st.sampled_from(BOUNDARY_TEXT),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.floats().map(repr),
)
# A list posts the key several times (or not at all): a list where a scalar is expected.
values = st.one_of(scalars, st.lists(scalars, max_size=3))


@dataclass(frozen=True)
class Upload:
    name: str
    content: bytes
    content_type: str


MP4 = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 16
UPLOAD_NAMES = [
    "clip.mp4",
    "",
    "a" * 300 + ".mp4",
    "../../evil.mp4",
    "x\x00.mp4",
    "clip.html",
    "clip.svg",
    "no-extension",
    ".csv",
    "régistre.csv",
    "\u202egpj.exe",
]
UPLOAD_TYPES = ["video/mp4", "", "text/html", "image/svg+xml", "application/octet-stream", "x/y"]
uploads = st.builds(
    Upload,
    name=st.sampled_from(UPLOAD_NAMES),
    content=st.one_of(
        st.sampled_from([b"", MP4, b"\xff\xd8\xff" + b"\x00" * 20, b"<html><script>", b"\x00"]),
        st.binary(max_size=64),
    ),
    content_type=st.sampled_from(UPLOAD_TYPES),
)

# Registry files for the import: the right columns, with generated cells (NULs and over-long
# values included: the import refuses them row by row).
cells = scalars


def _csv_file(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(registry_io.COLUMNS)
    label = registry_io.COLUMNS.index("camera_label")
    for number, row in enumerate(rows):
        # Several cameras of one site, rather than the same camera twice (a refused duplicate).
        writer.writerow([*row[:label], f"{row[label]} {number}", *row[label + 1 :]])
    return buffer.getvalue().encode("utf-8", "surrogatepass")


def _geojson_file(features: list[tuple[Any, dict[str, str]]]) -> bytes:
    document = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": place},
                "properties": p,
            }
            for place, p in features
        ],
    }
    return json.dumps(document).encode()


# A row the import accepts (in registry_io.COLUMNS order); the fuzzer changes some of its cells.
VALID_ROW = [
    "",
    "12 Church St N, Concord, NC 28025",
    "35.4101",
    "-80.5795",
    "home",
    "registered",
    "Rosa Diaz",
    "(704) 555-0199",
    "rosa@example.org",
    "Porch",
    "180",
    "street;sidewalk",
    "wall",
    "motion",
    "14",
    "yes",
]
VALID_PROPERTIES = dict(zip(registry_io.COLUMNS, VALID_ROW, strict=True))
row_changes = st.dictionaries(st.integers(0, len(VALID_ROW) - 1), cells, max_size=3)
coordinates = st.one_of(
    st.just([-80.5795, 35.4101]),
    st.lists(st.one_of(st.floats(), st.integers(), cells), max_size=3),
    cells,
    st.none(),
)
registry_files = st.one_of(
    st.builds(
        Upload,
        name=st.just("registry.csv"),
        content=st.lists(
            row_changes.map(lambda changes: [changes.get(i, c) for i, c in enumerate(VALID_ROW)]),
            min_size=1,
            max_size=3,
        ).map(_csv_file),
        content_type=st.just("text/csv"),
    ),
    st.builds(
        Upload,
        name=st.just("registry.geojson"),
        content=st.lists(
            st.tuples(
                coordinates,
                st.dictionaries(st.sampled_from(registry_io.COLUMNS), cells, max_size=3).map(
                    lambda changes: VALID_PROPERTIES | changes
                ),
            ),
            min_size=1,
            max_size=3,
        ).map(_geojson_file),
        content_type=st.just("application/geo+json"),
    ),
)

# ---------------------------------------------------------------------------------------------
# The forms
# ---------------------------------------------------------------------------------------------


def redirected(response: HttpResponse) -> bool:
    """Accepted: the view redirected, and did not say why it refused (some views refuse with a
    redirect and an error message)."""
    if response.status_code not in (301, 302, 303):
        return False
    return not any(message.level >= ERROR for message in get_messages(response.wsgi_request))


def import_commit(client: Client, upload: HttpResponse) -> HttpResponse | None:
    """Commit an upload the import's check accepted, as its preview page's button does (the
    check runs in-process in the tests, so the job is checked when the upload returns)."""
    found = re.fullmatch(r"/department/import/(\d+)/", upload.get("Location", ""))
    if upload.status_code != 302 or found is None:
        return None
    return client.post(
        reverse("department:import_commit", urlconf=TENANT_URLS, kwargs={"job_id": found[1]})
    )


def shown(response: HttpResponse) -> bool:
    """Accepted with a page rather than a redirect (a contact reveal, opting out)."""
    return response.status_code == 200 and b'role="alert"' not in response.content


@dataclass(frozen=True)
class Form:
    """One form or upload: its route, who posts it, and a valid submission the fuzzer mutates."""

    route: str
    persona: str
    fields: Mapping[str, Any] = field(default_factory=dict)
    files: tuple[str, ...] = ()
    path: Mapping[str, str] = field(default_factory=dict)
    # Path parameters that also receive fuzzed values (tokens and keys in emailed links).
    path_fuzzed: tuple[str, ...] = ()
    method: str = "post"
    accepted: Callable[[HttpResponse], bool] = redirected
    examples: int = 10
    # A second step some forms have (an import's preview is committed by a second post).
    then: Callable[[Client, HttpResponse], HttpResponse | None] | None = None

    @property
    def urlconf(self) -> str:
        return PUBLIC_URLS if self.persona in PLATFORM_PERSONAS else TENANT_URLS

    def __str__(self) -> str:
        return f"{self.persona}:{self.method}:{self.route}"


PLATFORM_PERSONAS = {"platform_visitor", "vendor"}
PROGRAM_REQUEST = {
    "agency_name": "Fuzzville Police Department",
    "city": "Fuzzville",
    "state": "NC",
    "time_zone": "America/New_York",
    "contact_name": "Fay Fuzz",
    "contact_title": "Chief",
    "contact_email": "fay@fuzzville.gov",
    "contact_phone": "704-555-0100",
    "expected_cameras": "10",
    "wants_devices": "no",
    "subdomain": "fuzz-request",
    "purchasing": "card",
}
SITE = site_post_data(cameras=2)
INCIDENT = incident_post_data()
DEPARTMENT = {
    "subdomain": "fuzzville",
    "name": "Fuzzville Police Department",
    "city": "Fuzzville",
    "state": "NC",
    "time_zone": "America/New_York",
    "display_name": "Fuzzville Camera Registry",
    "center_latitude": "35.0",
    "center_longitude": "-80.0",
    "service_radius_m": "9000 m",
    "goal_camera_count": "100",
    "primary_color": "#1d4ed8",
    "accent_color": "#f59e0b",
    "languages": ["en", "es"],
    "welcome_en": "Welcome",
    "welcome_es": "Bienvenidos",
    "terms_text": "Terms",
    "administrator_email": "chief@fuzzville.example.org",
}
# A device plan (the world makes it with this code) and a license for Concord.
PLAN = {
    "slug": "fuzz-hub",
    "name": "Fuzz Hub",
    "cameras_supported": "4",
    "storage_gb": "1000",
    "device_price": "350",
    "yearly_price": "150",
    "currency": "usd",
    "description_en": "Links up to 4 cameras.",
    "description_es": "Conecta hasta 4 cámaras.",
    "active": "on",
}
LICENSE = {
    "department": CITY,
    "period_start": "2027-01-01",
    "amount": "125000",
    "currency": "usd",
    "po_number": "PO-1",
    "contract": "",
}
SITE_ID = {"site_id": "site"}
DEPARTMENT_ID = {"department_id": "department"}
DOMAIN_ID = {"department_id": "department", "domain_id": "domain"}
PORTAL_SETTINGS = (
    {
        key: DEPARTMENT[key]
        for key in (
            "display_name",
            "primary_color",
            "accent_color",
            "languages",
            "welcome_en",
            "welcome_es",
            "terms_text",
        )
    }
    | {
        # The residents' privacy and contact pages (portal.residents.account_views).
        "privacy_en": "Our privacy notice.",
        "contact_phone": "(704) 555-0100",
        "contact_email": "cameras@example.org",
    }
    | {
        "name_es": "Departamento de Policía de Fuzzville",
        "display_name_es": "Registro de Fuzzville",
    }
)
DEPARTMENT_EDIT = {
    key: value
    for key, value in DEPARTMENT.items()
    if key not in {"subdomain", "administrator_email"}
} | {
    "verification_notice_days": "30",
    "verification_grace_days": "30",
    "purge_after_days": "90",
    "search_radius_max_m": "20000 m",
    "live_grant_minutes": "15",
    "device_offline_minutes": "10",
}
# The device plan offered in Concord in the fuzzer's world (a fixed id, so forms can name it).
FUZZ_PLAN_ID = 900_001
# Another vendor staff account whose role the vendor changes (a fixed id, for the same reason).
FUZZ_VENDOR_ID = 900_002
CAMERA_ID = {"camera_id": "camera"}
GRANT_ID = {"grant_id": "grant"}
CASE = {"incident_id": "incident"}
CASE_SITE = {"incident_id": "incident", "site_id": "site"}
MEMBER = {"member_id": "member"}
PASSWORDS = {"password1": "a-new-passphrase-9", "password2": "a-new-passphrase-9"}

FORMS = [
    # Residents and visitors of a city's portal.
    Form("account_signup", "visitor", {"email": "new@example.org", **PASSWORDS}),
    Form("account_login", "visitor", {"login": "alice@example.org", "password": "wrong"}),
    Form("account_reset_password", "visitor", {"email": "alice@example.org"}),
    Form(
        "account_reset_password_from_key",
        "visitor",
        PASSWORDS,
        path={"uidb36": "uidb36", "key": "reset_key"},
        path_fuzzed=("key",),
        examples=5,
    ),
    Form(
        "account_confirm_email",
        "visitor",
        {},
        path={"key": "email_key"},
        path_fuzzed=("key",),
        examples=5,
    ),
    Form("account_confirm_login_code", "visitor", {"code": "123456"}, examples=5),
    Form("mfa_authenticate", "visitor", {"code": "123456"}, examples=5),
    Form("set_language", "visitor", {"language": "es", "next": "/my/"}),
    Form("portal:site_new", "resident", SITE),
    Form("portal:site_edit", "resident", SITE | {"cameras-INITIAL_FORMS": "2"}, path=SITE_ID),
    Form("portal:site_pause", "resident", {}, path=SITE_ID, examples=5),
    Form("portal:site_resume", "resident", {}, path=SITE_ID, examples=5),
    Form("portal:camera_pause", "resident", {}, path=CAMERA_ID, examples=5),
    Form("portal:camera_resume", "resident", {}, path=CAMERA_ID, examples=5),
    Form("portal:confirm", "resident", {}, examples=5),
    Form("portal:terms", "resident", {"accept_terms": "on", "next": "/my/"}, examples=5),
    Form("portal:leave", "resident", {"confirm": "on", "close_account": ""}, accepted=shown),
    # Buying a device: the plan Concord offers in this world (a fake Stripe answers).
    Form("portal:site_integrate", "resident", {"plan": str(FUZZ_PLAN_ID)}, path=SITE_ID),
    Form("portal:billing_portal", "resident", {}, examples=5),
    # Live view's device pages (the owner's device, paired in this world).
    Form("devices:claim_code_new", "resident", {}, path=SITE_ID, examples=5),
    Form("devices:channel_camera", "resident", {"camera": ""}, path={"channel_id": "channel"}),
    Form("devices:device_remove", "resident", {}, path={"device_id": "device"}, examples=5),
    # Live sharing: the owner's pause, a camera's mode and hours, how they are told of views.
    Form("live_sharing:pause", "resident", {}, examples=5),
    Form("live_sharing:resume", "resident", {}, examples=5),
    Form(
        "live_sharing:camera_sharing",
        "resident",
        {
            "mode": "scheduled",
            "span-0-days": ["0", "4"],
            "span-0-start": "18:00",
            "span-0-end": "07:00",
            "span-1-days": ["6"],
            "span-1-start": "09:00",
            "span-1-end": "17:00",
        },
        path=CAMERA_ID,
    ),
    Form(
        "portal:verify",
        "visitor",
        {},
        path={"token": "verify_token"},
        path_fuzzed=("token",),
        method="get",
        examples=10,
    ),
    # The yearly confirmation's button: the POST confirms.
    Form(
        "portal:verify",
        "visitor",
        {},
        path={"token": "verify_token"},
        path_fuzzed=("token",),
        examples=5,
    ),
    Form("portal:geocode", "resident", {"q": "77 Union St S"}, method="get", examples=5),
    Form(
        "portal:geocode_reverse",
        "resident",
        {"lat": "35.4080", "lon": "-80.5810"},
        method="get",
        examples=5,
    ),
    Form("department:geocode", "administrator", {"q": "150 Union St S"}, method="get", examples=5),
    Form(
        "department:geocode_reverse",
        "administrator",
        {"lat": "35.4080", "lon": "-80.5810"},
        method="get",
        examples=5,
    ),
    # The department's choice of geocoder (a section of the settings page).
    Form("department:geocoder_settings", "administrator", {"geocoder": "gazetteer"}),
    # Residents' self-service: the account's preferences and a change of answer.
    Form(
        "portal:account",
        "resident",
        {"language": "es", "access_notices": "weekly", "area_notices": "no"},
    ),
    Form(
        "portal:answer_change",
        "resident",
        {"answer": "nothing"},
        path={"recipient_id": "recipient"},
        examples=10,
    ),
    Form("account_logout", "resident", {}, examples=5),
    Form("account_reauthenticate", "resident", {"password": "wrong"}, examples=5),
    # allauth 65.22: confirming who you are with a code emailed to you instead of the password.
    Form("account_request_reauthentication_code", "resident", {}, examples=5),
    Form("account_confirm_reauthentication_code", "resident", {"code": "123456"}, examples=5),
    Form("account_email", "resident", {"email": "second@example.org", "action_add": ""}),
    Form("account_change_password", "resident", {"oldpassword": "wrong", **PASSWORDS}, examples=5),
    Form("account_set_password", "resident", PASSWORDS, examples=5),
    Form("mfa_reauthenticate", "resident", {"code": "123456"}, examples=5),
    Form("mfa_activate_totp", "resident", {"code": "123456"}, examples=5),
    Form("mfa_deactivate_totp", "resident", {}, examples=5),
    Form("mfa_generate_recovery_codes", "resident", {}, examples=5),
    Form("mfa_download_recovery_codes", "resident", {}, examples=4),
    Form(
        "mfa_add_webauthn",
        "resident",
        {"name": "key", "credential": '{"id": "x"}', "passwordless": ""},
        examples=5,
    ),
    Form("mfa_reauthenticate_webauthn", "resident", {"credential": '{"id": "x"}'}, examples=5),
    Form("mfa_remove_webauthn", "resident", {}, path={"pk": "webauthn"}, examples=4),
    Form("mfa_edit_webauthn", "resident", {"name": "key"}, path={"pk": "webauthn"}, examples=4),
    # An owner answering from the emailed link, without signing in: the answer, then clips.
    Form(
        "answer",
        "visitor",
        {"answer": "has_footage"},
        path={"token": "answer_token"},
        path_fuzzed=("token",),
    ),
    Form("answer", "visitor", {}, files=("clip",), path={"token": "footage_token"}),
    Form(
        "account_unlock",
        "visitor",
        {},
        path={"token": "unlock_token"},
        path_fuzzed=("token",),
        accepted=shown,
        examples=5,
    ),
    # The department console.
    Form("department:incidents", "administrator", INCIDENT),
    Form(
        "department:canvass_entry",
        "administrator",
        {"state": "contacted", "notes": "Rang"},
        path=CASE_SITE,
    ),
    Form(
        "department:reveal",
        "administrator",
        {"note": "Rang the doorbell twice"},
        path=CASE_SITE,
        accepted=shown,
    ),
    # The notice's first step answers with its confirmation (shown); the confirmation's form,
    # with its one-time key, sends it.
    Form(
        "department:notify",
        "administrator",
        {"message": "Please check."},
        path=CASE,
        accepted=shown,
    ),
    Form(
        "department:notify",
        "administrator",
        {"message": "Please check.", "key": "fuzz-notice-key-000001"},
        path=CASE,
    ),
    Form(
        "department:incident_edit",
        "administrator",
        {
            "case_number": "CPD-FUZZ-2",
            "category": "burglary",
            "description": "Side door forced.",
            "starts_at": "2026-11-20T21:00",
            "ends_at": "2026-11-20T23:00",
        },
        path=CASE,
    ),
    Form("department:incident_close", "administrator", {}, path=CASE, examples=5),
    Form("department:incident_reopen", "administrator", {}, path=CASE, examples=5),
    Form("department:footage_request", "administrator", {"message": "Please."}, path=CASE_SITE),
    Form(
        "department:staff", "administrator", {"email": "new@concord.example.org", "role": "analyst"}
    ),
    Form("department:staff_role", "administrator", {"role": "operator"}, path=MEMBER),
    Form("department:staff_deactivate", "administrator", {}, path=MEMBER),
    Form("department:staff_reactivate", "administrator", {}, path=MEMBER),
    # The member is no pending invitee: both are refused with a message, nothing written.
    Form("department:staff_resend", "administrator", {}, path=MEMBER),
    Form("department:staff_revoke", "administrator", {}, path=MEMBER),
    Form("department:yard_sign_delivered", "administrator", {"page": "1"}, path=SITE_ID),
    Form("department:import", "administrator", {}, files=("file",), then=import_commit),
    Form("department:import_commit", "administrator", {}, path={"job_id": "import_job"}),
    Form("department:import_cancel", "administrator", {}, path={"job_id": "import_job"}),
    # Concord has no first-run checklist (a demo city): every change is refused with a message
    # and writes nothing; the accepted changes are tested in tests/onboarding_checklist.
    Form("department:setup_checklist", "administrator", {"change": "import_not_needed"}),
    # Live view: the fuzz world's camera is not integrated, so opening and renewing are refused
    # with the reason; closing the world's grant is accepted.
    Form(
        "department:live_open",
        "administrator",
        {"reason": "active_threat", "case_number": "CPD-1", "note": "", "notice_delay_hours": "0"},
        path=CAMERA_ID,
        accepted=lambda response: False,
    ),
    Form(
        "department:live_renew",
        "administrator",
        {"reason": "active_threat", "case_number": "CPD-1", "note": ""},
        path=GRANT_ID,
    ),
    Form("department:live_close", "administrator", {}, path=GRANT_ID),
    # The relay's JSON requests are fuzzed in tests/liveview/test_media_auth_fuzz.py; a form
    # post (and no key) is refused.
    Form("media_auth", "visitor", {"action": "read", "token": "x"}, accepted=lambda r: False),
    Form(
        "department:settings",
        "administrator",
        {"offence_types": "Burglary\nRobbery\nMissing person"},
    ),
    Form("department:portal_settings", "administrator", PORTAL_SETTINGS, files=("logo",)),
    # Guardrails (portal.guardrails): the settings, and deciding an approval request (the fuzz
    # world has none waiting: every decision is refused with a 404).
    Form(
        "department:guardrails",
        "administrator",
        {"live_reasons_allowed": ["active_threat"], "radius_burglary": "800"},
    ),
    Form(
        "department:approval_decide",
        "administrator",
        {"decision": "approve"},
        path={"approval_id": "audit_entry"},
        accepted=lambda response: False,
        examples=5,
    ),
    # Owners' notices of access (portal.access_notices): the department's maximum delay, a
    # case's delay and its closing, and an owner's choice.
    Form("access_notices_staff:settings", "administrator", {"delay_max_days": "30"}),
    Form(
        "access_notices_staff:delay",
        "administrator",
        {"days": "10", "reason": "Suspect not yet interviewed"},
        path={"incident_id": "incident"},
    ),
    Form("access_notices_staff:close", "administrator", {}, path={"incident_id": "incident"}),
    Form("access_notices:preferences", "resident", {"frequency": "weekly"}),
    # Oversight (portal.oversight): a flag and a finding on an entry, and an administrator's
    # resolution of a finding.
    Form(
        "oversight:flag", "overseer", {"note": "Why this reveal?"}, path={"entry_id": "audit_entry"}
    ),
    Form(
        "oversight:finding_record",
        "overseer",
        {"text": "The reason does not match the case.", "severity": "concern"},
        path={"entry_id": "audit_entry"},
    ),
    Form(
        "oversight:finding_resolve",
        "administrator",
        {"resolution": "Retrained the officer."},
        path={"finding_id": "finding"},
    ),
    # Council reports (portal.council_reports): a period, the department's own section, and
    # publishing (the fuzz world's report; publishing twice keeps one published report).
    Form("council_reports:reports", "administrator", {"preset": "last_quarter"}, examples=5),
    Form(
        "council_reports:report",
        "administrator",
        {
            "complaints": "Two complaints, both answered.",
            "costs": "$4,800 a year.",
            "funding_source": "General fund.",
            "effectiveness": "Footage in 12 cases.",
        },
        path={"report_id": "council_report"},
    ),
    Form(
        "council_reports:publish",
        "administrator",
        {},
        path={"report_id": "council_report"},
        examples=3,
    ),
    # The transparency page's texts (portal.transparency).
    Form(
        "transparency_console:policy",
        "administrator",
        {"policy_text": "Policy.", "retention_text": "90 days.", "funding_text": "City budget."},
    ),
    Form(
        "department:settings",
        "administrator",
        {"limits": "", "clips_per_link_max": "5", "megabytes_per_link_max": "500"},
    ),
    # The department's units (feet and miles, or meters), the settings page's last form.
    Form("department:settings", "administrator", {"units": "", "distance_units": "metric"}),
    Form("department:audit", "administrator", {"action": "reveal", "actor": "admin"}, method="get"),
    Form(
        "department:map",
        "administrator",
        {"kind": "home", "status": "all"},
        method="get",
        examples=5,
    ),
    Form(
        "department:map_data",
        "administrator",
        {
            "bbox": "35,-81,36,-80",
            "zoom": "17",
            "status": "all",
            "kind": "home",
            "sees": "street",
            "participation": "registered",
        },
        method="get",
    ),
    Form(
        "department:plan_offers",
        "administrator",
        {"offer_fuzz-hub": "on", "position_fuzz-hub": "1"},
    ),
    # The platform: the vendor's console and its sign-in.
    Form("console:department_new", "vendor", DEPARTMENT, files=("logo",), examples=8),
    Form("console:plan_new", "vendor", PLAN | {"slug": "fuzz-new"}),
    # The department lifecycle (tests/lifecycle/): Concord's page, rolled back after each post.
    Form("console:department_edit", "vendor", DEPARTMENT_EDIT, path=DEPARTMENT_ID, files=("logo",)),
    Form("console:domain_add", "vendor", {"hostname": "cams.fuzz.example.org"}, path=DEPARTMENT_ID),
    Form("console:domain_remove", "vendor", {}, path=DOMAIN_ID, examples=4),
    Form("console:domain_primary", "vendor", {}, path=DOMAIN_ID, examples=4),
    Form("console:department_suspend", "vendor", {"reason": "Unpaid"}, path=DEPARTMENT_ID),
    Form("console:department_reactivate", "vendor", {}, path=DEPARTMENT_ID, examples=4),
    # Never the subdomain typed: the owner's drop is not something a test may roll back.
    Form("console:department_delete", "vendor", {"confirmation": "no"}, path=DEPARTMENT_ID),
    Form("console:plan_edit", "vendor", PLAN, path={"plan_id": "plan"}),
    Form("console:plan_sync", "vendor", {}, path={"plan_id": "plan"}, examples=4),
    Form("console:plans_sync", "vendor", {}, examples=4),
    Form("console:license_new", "vendor", LICENSE),
    # Issue 15: provisioning an approved program request (rolled back after each post), and
    # sending the draft license it leaves (tests/onboarding_provision).
    Form(
        "console:program_request_provision",
        "vendor",
        DEPARTMENT
        | {"amount": "4800", "period_start": "2027-01-01", "po_number": "", "contract": ""},
        path={"request_id": "program_request"},
        files=("logo",),
        examples=8,
    ),
    Form("console:license_send", "vendor", {"po_number": "PO-9"}, path={"license_id": "draft"}),
    # Vendor support: a session's request, and a vendor staff member's role.
    Form(
        "console:department_support",
        "vendor",
        {"reason": "Ticket 4711: the import page fails", "minutes": "60", "write": "on"},
        path={"department_id": "department"},
    ),
    Form("console:vendor_staff", "vendor", {"member": str(FUZZ_VENDOR_ID), "role": "billing"}),
    # A department's archive (built at once here: no broker); `next` must stay on this site.
    Form(
        "console:department_exports",
        "vendor",
        {"next": "/console/"},
        path={"department_id": "city_department"},
        examples=4,
    ),
    # The billing console (no Stripe here: actions that call it are refused, changing nothing).
    Form(
        "console:billing_refund",
        "vendor",
        {"amount": "10.00", "reason": "Device broken", "token": "fuzz-form-token-0123456789"},
        path={"invoice_id": "invoice"},
    ),
    Form(
        "console:billing_cancel",
        "vendor",
        {"when": "now", "reason": "Owner moved"},
        path={"subscription_id": "subscription"},
    ),
    Form(
        "console:billing_complimentary",
        "vendor",
        {"months": "3", "reason": "Late install"},
        path={"subscription_id": "subscription"},
    ),
    Form(
        "console:billing_fulfilment_advance",
        "vendor",
        {"state": "shipped", "carrier": "UPS", "tracking_number": "1Z999", "reason": ""},
        path={"fulfilment_id": "fulfilment"},
    ),
    Form(
        "console:billing_alert_resolve",
        "vendor",
        {"reason": "Evidence sent"},
        path={"alert_id": "alert"},
    ),
    Form(
        "console:billing_subscriptions",
        "vendor",
        {"city": "1", "status": "active", "plan": "1", "q": "Union", "page": "2"},
        method="get",
        examples=5,
    ),
    # The program requests' queue (tests/onboarding_queue): a status step, a note, the filters.
    Form(
        "console:program_request_status",
        "vendor",
        {"to_status": "in_review", "reason": "Checked with the city."},
        path={"request_id": "program_request"},
    ),
    Form(
        "console:program_request_note",
        "vendor",
        {"text": "Called the chief."},
        path={"request_id": "program_request"},
    ),
    Form(
        "console:program_requests",
        "vendor",
        {"status": "open", "q": "Springfield", "page": "2"},
        method="get",
        examples=5,
    ),
    Form(
        "account_login",
        "platform_visitor",
        {"login": "vendor@example.org", "password": "x"},
        examples=5,
    ),
    Form(
        "account_signup", "platform_visitor", {"email": "new@example.org", **PASSWORDS}, examples=5
    ),
    Form("account_reset_password", "platform_visitor", {"email": "x@example.org"}, examples=5),
    Form(
        "account_unlock",
        "platform_visitor",
        {},
        path={"token": "unlock_token"},
        path_fuzzed=("token",),
        accepted=shown,
        examples=5,
    ),
    # The program request (onboarding) and its emailed confirmation link.
    Form("onboarding:request", "platform_visitor", PROGRAM_REQUEST, examples=5),
    Form("onboarding:request_resend", "platform_visitor", {}, examples=3),
    Form(
        "onboarding:request_confirm",
        "platform_visitor",
        {},
        path={"token": "program_request_token"},
        path_fuzzed=("token",),
        accepted=shown,
        examples=5,
    ),
    # Stripe's webhook: nothing unsigned is ever accepted (400, no row written); signed events
    # are tested in tests/billing/test_webhooks_*.py.
    Form("stripe_webhook", "platform_visitor", {"type": "invoice.paid"}, accepted=lambda r: False),
]

# CANVASS_FUZZ_SCALE=20 runs twenty times as many examples (a deeper search than the suite's).
SCALE = int(os.environ.get("CANVASS_FUZZ_SCALE", "1"))

# ---------------------------------------------------------------------------------------------
# The world the forms are posted into
# ---------------------------------------------------------------------------------------------


@dataclass
class World:
    clients: dict[str, Client]
    ids: dict[str, str]


@pytest.fixture
def world(make_resident, make_staff, host_client, site_data, settings) -> Iterator[World]:
    """The personas, their rows and the ids forms need; a fake Stripe answers payments, and
    Concord offers one device plan (synced to it) for the checkout form."""
    from billing.fake_stripe import FakeStripe
    from billing.gateway import transport_injected
    from tests.billing.plans import HUB_4, plan_make, plan_sync, plans_offer

    with transport_injected(FakeStripe()):
        plans_offer(CITY, plan_sync(plan_make({**HUB_4, "id": FUZZ_PLAN_ID})))
        yield _world(make_resident, make_staff, host_client, site_data, settings)


def _world(make_resident, make_staff, host_client, site_data, settings) -> World:
    from allauth.account.models import EmailAddress
    from allauth.account.utils import user_pk_to_url_str
    from django.contrib.auth import get_user_model

    from portal.department.models import Incident, NotificationRecipient
    from portal.department.tasks import answer_token
    from portal.registry.audit import Actor
    from portal.registry.models import Site, StaffMember
    from portal.registry.services import import_start, verification_token
    from tenants import account_lock
    from tenants.demo import VENDOR_EMAIL
    from tenants.models import Department
    from tenants.signing import EmailConfirmation, password_reset_tokens

    # The webhook checks signatures (without a secret it refuses before reading them).
    settings.STRIPE_WEBHOOK_SECRET = "whsec_fuzz"
    alice = make_resident(CITY)
    assert alice.client.post("/register/", site_data(cameras=2)).status_code == 302
    bob = make_resident(CITY, email="bob@example.org")
    admin = make_staff(CITY, "administrator")
    member = make_staff(CITY, "investigator", signed_in=False)
    overseer = make_staff(CITY, "oversight", email="auditor@council.concord.example.org")
    with schema_context(CITY):
        site = Site.objects.get(participant__user__email=alice.email)
        user = site.participant.user
        officer = get_user_model().objects.get(email=admin.email)
        incident = Incident.objects.create(
            kind="crime",
            case_number="1",
            latitude=site.latitude,
            longitude=site.longitude,
            starts_at="2026-11-20T21:00Z",
            ends_at="2026-11-20T22:00Z",
            radius_m=300,
            opened_by=officer,
        )
        notification = incident.notifications.create(message="m", radius_m=300, created_by=officer)
        waiting = NotificationRecipient.objects.create(
            notification=notification, participant=site.participant
        )
        answered = NotificationRecipient.objects.create(
            notification=notification, participant=bob.participant, answer="has_footage"
        )
        email = EmailAddress.objects.get(user=user)
        ids = {
            "site": str(site.pk),
            "camera": str(site.cameras.order_by("pk").first().pk),
            "incident": str(incident.pk),
            "webauthn": "1",
            "member": str(StaffMember.objects.get(user__email=member.email).pk),
            "answer_token": answer_token(waiting),
            "footage_token": answer_token(answered),
            "recipient": str(waiting.pk),
            "verify_token": verification_token(site.participant),
            "email_key": EmailConfirmation(email).key,
            "uidb36": user_pk_to_url_str(user),
            "reset_key": password_reset_tokens.make_token(user),
            "unlock_token": account_lock.unlock_token(user_pk=user.pk, login=user.email),
            "import_job": str(
                import_start(
                    actor=Actor.of_staff(StaffMember.objects.get(user=officer), None),
                    filename="registry.csv",
                    content=b"address,latitude,longitude,contact_name,contact_email,camera_label"
                    b"\n1 Main St,35.408,-80.581,Ann,ann@example.org,Porch\n",
                ).pk
            ),
        }
        ids["grant"] = str(_grant(site, StaffMember.objects.get(user=officer)))
    with schema_context("public"):
        from billing.catalog import plan_create

        plan = plan_create(
            **{key: value for key, value in PLAN.items() if key != "active"}
            | {"cameras_supported": 4, "storage_gb": 1000, "device_price": 35_000}
            | {"yearly_price": 15_000, "video_search": False}
        )
        ids["plan"] = str(plan.pk)
        from tenants.models import Domain

        concord = Department.objects.get(schema_name=CITY)
        ids["department"] = ids["city_department"] = str(concord.pk)
        ids["domain"] = str(
            Domain.objects.create(domain="cams.concord.example.org", tenant=concord).pk
        )
        from onboarding.models import ProgramRequest

        ids["program_request"] = str(
            ProgramRequest.objects.create(
                agency_name="Fuzzville Police Department",
                city="Fuzzville",
                state="NC",
                contact_name="Ann",
                contact_title="Chief",
                contact_email="chief@fuzzville.example.org",
                contact_phone="555 0100",
                expected_cameras=10,
                subdomain="fuzzville",
                purchasing="card",
                status=ProgramRequest.Status.NEW,
            ).pk
        )
        from onboarding.requests import confirm_token, program_request_submit

        ids["program_request_token"] = confirm_token(
            program_request_submit(
                **{key: value for key, value in PROGRAM_REQUEST.items() if key != "wants_devices"}
                | {"expected_cameras": 10, "wants_devices": False, "language": "en"}
            )
        )
        get_user_model().objects.create_user(
            id=FUZZ_VENDOR_ID,
            username="fuzz-vendor",
            email="fuzz@canvass.example.org",
            is_staff=True,
        )
    ids |= oversight_world(overseer)
    ids |= billing_world(site, plan)
    ids |= onboarding_world()
    ids |= device_world(site)
    vendor = host_client("localhost")
    with schema_context("public"):
        vendor.force_login(get_user_model().objects.get(email=VENDOR_EMAIL))
    clients = {
        "visitor": host_client(f"{CITY}.localhost"),
        "resident": alice.client,
        "administrator": admin.client,
        "overseer": overseer.client,
        "platform_visitor": host_client("localhost"),
        "vendor": vendor,
    }
    return World(clients, ids)


def oversight_world(overseer: Any) -> dict[str, str]:
    """An audit entry of the city's to flag, and a finding on it for an administrator to
    resolve."""
    from portal.oversight.services import finding_record
    from portal.registry.audit import Actor, audit_record
    from portal.registry.models import AuditEntry, StaffMember

    with schema_context(CITY):
        administrator = StaffMember.objects.filter(role=StaffMember.Role.ADMINISTRATOR).first()
        entry = audit_record(
            actor=Actor.of_staff(administrator, None),
            action=AuditEntry.Action.EXPORT,
            reason="Registry exported for the fuzz world",
        )
        staff = StaffMember.objects.get(user__email=overseer.email)
        finding = finding_record(
            actor=Actor.of_staff(staff, None),
            entry_id=entry.pk,
            text="A finding to resolve.",
            severity="observation",
        )
        from datetime import date

        from portal.council_reports.services import report_generate
        from tenants.models import Department

        report = report_generate(
            department=Department.objects.get(schema_name=CITY),
            start=date(2026, 7, 1),
            end=date(2026, 9, 30),
        )
    return {
        "audit_entry": str(entry.pk),
        "finding": str(finding.pk),
        "council_report": str(report.pk),
    }


def _grant(site: Any, staff: Any) -> int:
    """An open live-view grant of the administrator's on the site's first camera."""
    from datetime import timedelta

    from django.utils import timezone

    from portal.liveview.models import Grant

    return Grant.objects.create(
        staff=staff,
        staff_email=staff.user.email,
        staff_role=staff.role,
        camera=site.cameras.order_by("pk").first(),
        reason="active_threat",
        emergency=True,
        case_number="CPD-1",
        expires_at=timezone.now() + timedelta(minutes=15),
    ).pk


def onboarding_world() -> dict[str, str]:
    """An approved program request for Fuzzville, and a draft license of Concord's (at the
    world's fake Stripe) to send."""
    from datetime import date

    from django.utils import timezone
    from onboarding.models import ProgramRequest

    from billing.licenses import license_draft
    from tenants.models import Department

    request = ProgramRequest.objects.create(
        agency_name=DEPARTMENT["name"],
        city=DEPARTMENT["city"],
        state=DEPARTMENT["state"],
        contact_name="Fuzz Chief",
        contact_title="Chief",
        contact_email=DEPARTMENT["administrator_email"],
        contact_phone="+1 704 555 0100",
        expected_cameras=100,
        subdomain=DEPARTMENT["subdomain"],
        purchasing=ProgramRequest.Purchasing.PURCHASE_ORDER,
        status=ProgramRequest.Status.APPROVED,
        email_confirmed_at=timezone.now(),
    )
    draft = license_draft(
        actor_email="fuzz@canvass.example.org",
        department=Department.objects.get(schema_name=CITY),
        period_start=date(2031, 1, 1),
        amount=480_000,
    )
    return {"program_request": str(request.pk), "draft": str(draft.pk)}


def billing_world(site: Any, plan: Any) -> dict[str, str]:
    """A paid device subscription of the site, with its invoice, device and an open alert (the
    rows the billing console's forms act on)."""
    from django.utils import timezone

    from billing.models import Alert, Fulfilment, Invoice, Subscription
    from tenants.models import Department

    department = Department.objects.get(schema_name=CITY)
    subscription = Subscription.objects.create_for_site(
        department=department,
        site=site,
        plan=plan,
        stripe_subscription_id="sub_fuzz",
        status=Subscription.Status.ACTIVE,
        entitled=True,
        started_at=timezone.now(),
    )
    invoice = Invoice.objects.create(
        stripe_invoice_id="in_fuzz",
        department=department,
        subscription=subscription,
        status=Invoice.Status.PAID,
        amount_due=50_000,
        amount_paid=50_000,
        currency="usd",
        payment_intent_id="pi_fuzz",
        created=timezone.now(),
    )
    fulfilment = Fulfilment.objects.create(subscription=subscription)
    alert = Alert.objects.create(
        kind=Alert.Kind.DISPUTE, department=department, subscription=subscription, message="x"
    )
    return {
        "subscription": str(subscription.pk),
        "invoice": str(invoice.pk),
        "fulfilment": str(fulfilment.pk),
        "alert": str(alert.pk),
    }


def device_world(site: Any) -> dict[str, str]:
    """The site integrated, with a paired device reporting one channel (live view's forms)."""
    from portal.liveview.models import Channel, Device
    from portal.registry.models import Site

    with schema_context(CITY):
        Site.objects.filter(pk=site.pk).update(participation=Site.Participation.INTEGRATED)
        device = Device.objects.create(site=site, credential_id="fuzz" * 4, credential_hash="x")
        channel = Channel.objects.create(device=device, key="ch1", name="Front")
    return {"device": str(device.pk), "channel": str(channel.pk)}


def unchanged_but_for_recorded_reads(response: HttpResponse, before: dict[str, int]) -> bool:
    """Whether nothing was written, but for the audit entry a page that answered by showing
    personal data (the map's exact positions, a canvass) must write: a refusal writes none."""
    after = row_counts()
    if response.status_code < 400:
        after = {table: count for table, count in after.items() if not table.endswith(AUDIT)}
        before = {table: count for table, count in before.items() if not table.endswith(AUDIT)}
    return after == before


AUDIT = ".registry_auditentry"


def row_counts() -> dict[str, int]:
    """Rows in every table of the city's and the platform's schemas (sessions aside: showing a
    form may store a session), in one query each."""
    counts: dict[str, int] = {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT schemaname, tablename FROM pg_tables WHERE schemaname = ANY(%s) "
            "AND tablename <> 'django_session' ORDER BY 1, 2",
            [["public", CITY]],
        )
        tables = cursor.fetchall()
        query = sql.SQL(" UNION ALL ").join(
            sql.SQL("SELECT {label}, count(*) FROM {table}").format(
                label=sql.Literal(f"{schema}.{table}"), table=sql.Identifier(schema, table)
            )
            for schema, table in tables
        )
        cursor.execute(query)
        counts.update(dict(cursor.fetchall()))
    return counts


def assert_data_whole() -> None:
    """What an accepted submission must never leave behind: half of something."""
    from portal.department.models import FootageClip
    from portal.registry.models import Site
    from tenants.models import Department

    with schema_context(CITY):
        assert not Site.objects.filter(cameras__isnull=True).exists(), "a site without cameras"
        for clip in FootageClip.objects.all():
            assert clip.file.storage.exists(clip.file.name), f"clip {clip.pk} has no file"
    with schema_context("public"):
        for department in Department.objects.exclude(schema_name="public"):
            assert department.domains.exists(), f"{department} has no domain"
            assert hasattr(department, "branding") and hasattr(department, "program")


class RawUpload(io.BytesIO):
    """A file as the test client sends it, with any name and Content-Type (SimpleUploadedFile
    would refuse an empty name before the request is even made)."""

    def __init__(self, upload: Upload) -> None:
        super().__init__(upload.content)
        self.name = upload.name
        self.content_type = upload.content_type


def post(
    client: Client,
    form: Form,
    path: str,
    data: dict[str, Any],
    files: dict[str, Upload],
    encoding: str,
    raw: bytes,
    charset: str,
    declared: str,
) -> HttpResponse:
    """Post the submission as a browser or a script might: multipart, url-encoded, or url-encoded
    with raw bytes spliced in under an odd charset."""
    if form.method == "get":
        return client.get(path, data)
    if files or encoding == "multipart":
        payload = dict(data)
        for name, upload in files.items():
            payload[name] = RawUpload(upload)
        return client.post(path, payload)
    pairs = [
        f"{quote(str(key))}={quote(str(item))}"
        for key, value in data.items()
        for item in (value if isinstance(value, list) else [value])
    ]
    body = "&".join(pairs).encode()
    content_type = "application/x-www-form-urlencoded"
    if encoding == "raw":
        body += b"&raw=" + raw + b"&" + quote_from_bytes(raw).encode() + b"=" + raw
        content_type += f"; charset={charset}"
    if encoding == "mislabelled":
        content_type = declared
    return client.generic("POST", path, body, content_type=content_type)


def path_for(form: Form, world: World, fuzzed: Mapping[str, str | None]) -> str:
    kwargs = {name: world.ids[key] for name, key in form.path.items()}
    url = reverse(form.route, urlconf=form.urlconf, kwargs=kwargs)
    for name, value in fuzzed.items():
        if value is not None:  # None: the link as it was emailed
            url = url.replace(kwargs[name], quote(value, safe=""), 1)
    return url


def submissions(form: Form) -> st.SearchStrategy[dict[str, Any]]:
    names = sorted(set(form.fields) | {"extra", "csrfmiddlewaretoken"})
    # An upload whose Content-Type is longer than any column keeps it.
    long_type = st.builds(
        Upload,
        name=st.sampled_from(["clip.mp4", "registry.csv", "logo.png"]),
        content=st.just(MP4),
        content_type=st.just("video/" + "x" * 150),
    )
    upload_strategy = st.one_of(uploads, long_type)
    if "file" in form.files:
        upload_strategy = st.one_of(registry_files, upload_strategy)
    return st.fixed_dictionaries(
        {
            "changed": st.dictionaries(st.sampled_from(names), values, max_size=4),
            "dropped": st.sets(st.sampled_from(sorted(form.fields) or ["-"]), max_size=2),
            "files": st.fixed_dictionaries({name: upload_strategy for name in form.files}),
            "drop_files": st.booleans() if form.files else st.just(False),
            "path": st.fixed_dictionaries(
                {
                    name: st.one_of(
                        st.none(), st.sampled_from(BOUNDARY_TEXT[:30]), st.text(max_size=40)
                    )
                    for name in form.path_fuzzed
                }
            )
            if form.path_fuzzed
            else st.just({}),
            "encoding": st.sampled_from(["multipart", "urlencoded", "raw", "mislabelled"]),
            "declared": st.sampled_from(CONTENT_TYPES),
            "raw": st.sampled_from(RAW_BYTES),
            "charset": st.sampled_from(CHARSETS),
        }
    )


# The sharpest boundaries, tried on each field in turn while the rest of the submission stays
# valid (random search rarely puts one precise value into one precise field): NUL, huge, a list
# for a scalar, an address one character beyond a username's 150.
SHARP = ["\x00", HUGE, ["a", "b"], "a" * 139 + "@example.org"]


def each_field_at_its_boundaries(client: Client, form: Form, world: World) -> None:
    """The sharp values in each field in turn: no 500, and a refusal changes no row."""
    path = path_for(form, world, {})
    # A second camera's fields are the first one's form again.
    for name in [name for name in form.fields if not name.startswith("cameras-1-")]:
        for value in SHARP:
            cache.clear()
            client.cookies.pop("messages", None)
            with transaction.atomic():
                before = row_counts()
                data = {**form.fields, name: value}
                response = (
                    client.get(path, data) if form.method == "get" else client.post(path, data)
                )
                connection.set_schema_to_public()
                assert response.status_code < 500, (name, value[:40], response.status_code)
                if form.method == "get":
                    assert unchanged_but_for_recorded_reads(response, before), (name, value[:40])
                elif not form.accepted(response):
                    assert row_counts() == before, (name, value[:40], "a refusal changed rows")
                assert_data_whole()
                transaction.set_rollback(True)


@pytest.mark.parametrize("form", FORMS, ids=str)
def test_a_form_answers_every_input_without_a_server_error_or_a_half_write(world, form):
    client = world.clients[form.persona]
    each_field_at_its_boundaries(client, form, world)

    @settings(
        max_examples=form.examples * SCALE,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(submission=submissions(form))
    def submit(submission: dict[str, Any]) -> None:
        data = {k: v for k, v in form.fields.items() if k not in submission["dropped"]}
        data |= submission["changed"]
        files = {} if submission["drop_files"] else submission["files"]
        cache.clear()  # allauth's rate limits would answer 429 to everything after a while
        client.cookies.pop("messages", None)  # only this submission's messages tell refusals
        with transaction.atomic():
            before = row_counts()
            response = post(
                client,
                form,
                path_for(form, world, submission["path"]),
                data,
                files,
                submission["encoding"],
                submission["raw"],
                submission["charset"],
                submission["declared"],
            )
            connection.set_schema_to_public()
            assert response.status_code < 500, response.status_code
            if form.then is not None and form.accepted(response):
                # The first step was accepted (an import's upload opens a job): what the second
                # step must not change when it refuses is the state after the first.
                before = row_counts()
            if form.then is not None and (second := form.then(client, response)) is not None:
                connection.set_schema_to_public()
                assert second.status_code < 500, second.status_code
                event(f"then: {second.status_code}")
                response = second
            event(f"answered {response.status_code}")  # --hypothesis-show-statistics
            if form.method == "get":
                assert unchanged_but_for_recorded_reads(response, before), "a read changed rows"
            elif not form.accepted(response):
                assert row_counts() == before, "a refused submission changed rows"
            assert_data_whole()
            # What was accepted can be looked at: the page the form sends its user to.
            location = response.get("Location", "") if response.status_code in (302, 303) else ""
            if location.startswith("/") and not location.startswith("//"):
                follow = client.get(location)
                connection.set_schema_to_public()
                assert follow.status_code < 500, (location, follow.status_code)
            transaction.set_rollback(True)

    submit()


# ---------------------------------------------------------------------------------------------
# No form is left out
# ---------------------------------------------------------------------------------------------


def routes(urlconf: str) -> Iterator[tuple[str, URLPattern, list[str]]]:
    """(name, pattern, names of its parameters) of every route of the URLconf."""

    def walk(patterns: list, namespace: str, params: list[str]) -> Iterator:
        for pattern in patterns:
            inner = params + _parameters(pattern)
            if isinstance(pattern, URLResolver):
                prefix = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                yield from walk(pattern.url_patterns, prefix, inner)
            else:
                yield f"{namespace}{pattern.name}", pattern, inner

    yield from walk(get_resolver(urlconf).url_patterns, "", [])


def _parameters(pattern: URLPattern | URLResolver) -> list[str]:
    compiled = pattern.pattern.regex
    return list(compiled.groupindex)


# Routes that read no submitted input at all; each says why it needs no fuzzing.
NOT_FORMS = {
    # Django's development file server: it only reads the path (and the evidence rewrite
    # removes the route).
    "None": "static files in development",
    # The device API takes JSON, not forms: fuzzed with Hypothesis in
    # tests/liveview/test_devices_api.py.
    "device_api:claim": "JSON API, fuzzed in tests/liveview/test_devices_api.py",
    "device_api:heartbeat": "JSON API, fuzzed in tests/liveview/test_devices_api.py",
    "device_api:credential": "JSON API, fuzzed in tests/liveview/test_devices_api.py",
    # Vendor support's buttons: the session's id in the path is all they read (tests/support).
    "support:approve": "a button: reads only the session id in its path",
    "support:end": "a button: reads only the session id in its path",
    "console:support_enter": "a button: reads only the session id in its path",
    "console:support_write": "a button: reads only the session id in its path",
    "console:support_end": "a button: reads only the session id in its path",
    # The email provider's webhook takes the provider's JSON, not forms: fuzzed with
    # Hypothesis in tests/email/test_bounces.py (404 here: no provider is configured).
    "email_webhook": "JSON webhook, fuzzed in tests/email/test_bounces.py",
}


@pytest.mark.parametrize("urlconf", [TENANT_URLS, PUBLIC_URLS])
def test_every_route_that_accepts_a_post_is_fuzzed(world, urlconf):
    """Each route is posted to by a signed-in persona; whatever does not answer 405 accepts
    posts, and must be among FORMS."""
    persona = "resident" if urlconf == TENANT_URLS else "vendor"
    client = world.clients[persona]
    posted = [form for form in FORMS if form.method == "post"]
    fuzzed = {form.route for form in posted if form.urlconf == urlconf}
    # The sign-in pages are the same views on every host: fuzzed on a city's, they are covered.
    fuzzed_views = {
        pattern.callback
        for form in posted
        for name, pattern, _params in routes(form.urlconf)
        if name == form.route
    }
    unfuzzed = []
    for name, pattern, params in routes(urlconf):
        if name in fuzzed or pattern.callback in fuzzed_views or name in NOT_FORMS:
            continue
        kwargs = {param: "1" for param in params}
        path = reverse(name, urlconf=urlconf, kwargs=kwargs)
        cache.clear()
        response = client.post(path, {})
        connection.set_schema_to_public()
        if response.status_code != 405:
            unfuzzed.append(f"{name} ({path}: {response.status_code})")
    assert not unfuzzed, "Routes that accept a POST and are not in FORMS: " + ", ".join(unfuzzed)


def test_every_form_of_the_list_exists():
    """A renamed route fails here rather than being fuzzed nowhere."""
    for form in FORMS:
        names = {name for name, _pattern, _params in routes(form.urlconf)}
        assert form.route in names, form


def test_the_ids_a_form_needs_exist(world):
    for form in FORMS:
        for key in form.path.values():
            assert key in world.ids, form
    assert re.fullmatch(r"\d+", world.ids["site"])


# Query strings every page may receive from a crafted link: NUL bytes, undecodable bytes, huge
# values, a list where one value is expected, numbers beyond their limits.
HOSTILE_QUERIES = [
    "next=%00&q=%ED%A0%80&actor=%00&action=%ff%fe&kind=%00&status=%C3&sees=%00&participation=%00",
    "next=" + "x" * 20_000 + "&q=" + "x" * 20_000 + "&actor=" + "x" * 20_000,
    "action=reveal&action=export&actor=a&actor=b&next=//evil.example&bbox=nan,nan,nan,nan"
    "&zoom=1e309",
    "bbox=-91,-181,91,181&zoom=" + "9" * 5_000 + "&status=all&page=-1&page=99999999999999999999",
]


@pytest.mark.parametrize("urlconf", [TENANT_URLS, PUBLIC_URLS])
def test_every_page_answers_a_hostile_query_string_without_a_server_error(world, urlconf):
    personas = ["resident", "administrator", "visitor"] if urlconf == TENANT_URLS else ["vendor"]
    failures = []
    for name, _pattern, params in routes(urlconf):
        if name in NOT_FORMS:
            continue
        path = reverse(name, urlconf=urlconf, kwargs={param: "1" for param in params})
        for persona in personas:
            for query in HOSTILE_QUERIES:
                cache.clear()
                with transaction.atomic():
                    response = world.clients[persona].get(f"{path}?{query}")
                    if hasattr(response, "streaming_content"):
                        b"".join(response.streaming_content)
                    transaction.set_rollback(True)
                connection.set_schema_to_public()
                if response.status_code >= 500:
                    failures.append(f"{persona} {path}?{query[:60]}: {response.status_code}")
    assert not failures, failures
