"""The department's administrator sets the address answers go to, on the console's settings
page, beside the two forms already there; a line break or a second address is refused."""

from __future__ import annotations

import pytest

from tenants.models import Program

pytestmark = pytest.mark.django_db


def reply_to_of(schema):
    return Program.objects.get(department__schema_name=schema).reply_to_email


def test_the_administrator_sets_and_clears_the_reply_to_address(admin):
    page = admin.client.get("/department/settings/")
    assert "Reply-to address" in page.content.decode()
    response = admin.client.post(
        "/department/settings/", {"reply_to": "", "reply_to_email": " cameras@concordpd.gov "}
    )
    assert response.status_code == 302
    assert reply_to_of("concord") == "cameras@concordpd.gov"
    assert reply_to_of("carrollton") == ""
    admin.client.post("/department/settings/", {"reply_to": "", "reply_to_email": ""})
    assert reply_to_of("concord") == ""


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (
            "cameras@concordpd.gov\r\nBcc: all@example.org",
            "An email address cannot contain a line break.",
        ),
        (
            "cameras@concordpd.gov\nBcc: all@example.org",
            "An email address cannot contain a line break.",
        ),
        ("Concord PD <cameras@concordpd.gov>", "Enter one email address alone"),
        ("a@concordpd.gov, b@concordpd.gov", "Enter one email address alone"),
        ("not an address", "Enter one email address alone"),
    ],
)
def test_a_header_injection_or_a_bad_address_is_refused_with_its_reason(admin, value, error):
    response = admin.client.post("/department/settings/", {"reply_to": "", "reply_to_email": value})
    assert response.status_code == 400
    assert error in response.content.decode()
    assert reply_to_of("concord") == ""


def test_the_reply_to_address_is_refused_in_spanish_too(admin):
    admin.client.cookies["django_language"] = "es"
    response = admin.client.post(
        "/department/settings/", {"reply_to": "", "reply_to_email": "a@b.gov\r\nBcc: c@d.gov"}
    )
    assert response.status_code == 400
    assert (
        "Una dirección de correo no puede contener un salto de línea." in response.content.decode()
    )


def test_the_other_two_forms_still_work(admin):
    response = admin.client.post(
        "/department/settings/",
        {"limits": "", "clips_per_link_max": "5", "megabytes_per_link_max": "100"},
    )
    assert response.status_code == 302
    program = Program.objects.get(department__schema_name="concord")
    assert program.clips_per_link_max == 5
    response = admin.client.post("/department/settings/", {"offence_types": "Burglary\nArson"})
    assert response.status_code == 302
    program.refresh_from_db()
    assert [o["label"] for o in program.offence_types] == ["Burglary", "Arson"]
    assert program.reply_to_email == ""


def test_only_administrators_set_it(investigator):
    response = investigator.client.post(
        "/department/settings/", {"reply_to": "", "reply_to_email": "x@example.org"}
    )
    assert response.status_code == 403
    assert reply_to_of("concord") == ""
