"""Every emailed link works only in its own city.

Ids start at 1 in every department's schema, so each test makes the ids collide on purpose: the
same answer recipient, email address, participant or user id in Concord and in Carrollton. The
Concord link is then opened on Carrollton's portal (refused as invalid, nothing changes there)
and at home (it works)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from secrets import token_urlsafe

import pytest
import time_machine
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import AbstractBaseUser
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django_tenants.utils import schema_context, tenant_context

from portal.department.models import FootageClip, Incident, NotificationRecipient
from portal.department.services import staff_invitation_send
from portal.registry.models import Participant, Site, StaffMember
from portal.registry.services import registrations_verify
from tenants.models import Department, Program
from tenants.signing import EmailConfirmation
from tests.conftest import incident_post_data, site_post_data
from tests.department.test_notify import MP4

pytestmark = pytest.mark.django_db

# Far above what the tests' sequences reach, so that both cities can use it.
COLLIDING_ID = 900_001
CENTRE = {
    "concord": {"latitude": "35.4080", "longitude": "-80.5810"},
    "carrollton": {"latitude": "33.5801", "longitude": "-85.0766"},
}


def path_in(message: mail.EmailMessage, pattern: str) -> str:
    """The path of the Concord link in an email."""
    found = re.search(rf"http://concord\.localhost(?::\d+)?({pattern})", message.body)
    assert found, message.body
    return found.group(1)


def user_with_id(schema: str, pk: int, email: str, **fields: object) -> AbstractBaseUser:
    with schema_context(schema):
        return get_user_model().objects.create_user(id=pk, username=email, email=email, **fields)


# --- Answer links (area notices and footage requests) ---


def asked_owner(
    schema: str, make_resident: Callable, make_staff: Callable, capture: Callable, *, footage: bool
) -> tuple[str, int]:
    """An owner in `schema` asked about a case by an area notice or a footage request, through
    the console; returns the owner's email and the recipient's id."""
    owner = make_resident(schema, email=f"owner@{schema}.example.org")
    registered = owner.client.post("/register/", _site(schema))
    assert registered.status_code == 302, registered.content.decode()
    investigator = make_staff(schema, "investigator")
    opened = investigator.client.post(
        "/department/incidents/",
        incident_post_data(
            case_number=f"{schema}-77", address="Main St", **CENTRE[schema], radius_m="400"
        ),
    )
    assert opened.status_code == 302, opened.content.decode()
    with schema_context(schema):
        incident = Incident.objects.get(case_number=f"{schema}-77")
        site = Site.objects.get(participant__user__email=owner.email)
    url = f"/department/incidents/{incident.pk}/"
    url += f"sites/{site.pk}/request/" if footage else "notify/"
    mail.outbox.clear()
    with capture(execute=True):
        # An area notice is sent from its confirmation page, whose one-time key it carries.
        data = {"message": "Please check."} | ({} if footage else {"key": token_urlsafe()})
        assert investigator.client.post(url, data).status_code == 302
    with schema_context(schema):
        recipient = NotificationRecipient.objects.get(participant__user__email=owner.email)
    return owner.email, recipient.pk


def _site(schema: str) -> dict[str, object]:
    return site_post_data(**CENTRE[schema])


@pytest.mark.parametrize("footage", [False, True], ids=["area notice", "footage request"])
def test_an_answer_link_works_only_in_its_own_city(
    footage,
    make_resident,
    make_staff,
    concord_client,
    carrollton_client,
    django_capture_on_commit_callbacks,
):
    capture = django_capture_on_commit_callbacks
    _email, carrollton_id = asked_owner(
        "carrollton", make_resident, make_staff, capture, footage=footage
    )
    email, concord_id = asked_owner("concord", make_resident, make_staff, capture, footage=footage)
    link = path_in(next(m for m in mail.outbox if m.to == [email]), r"/answer/\S+/")
    # Carrollton's recipient gets the id of Concord's.
    with schema_context("carrollton"):
        NotificationRecipient.objects.filter(pk=carrollton_id).update(id=concord_id)

    page = carrollton_client.get(link)
    assert page.status_code == 400
    assert "This link is not valid." in page.content.decode()
    assert carrollton_client.post(link, {"answer": "has_footage"}).status_code == 400
    upload = SimpleUploadedFile("porch.mp4", MP4, "video/mp4")
    assert carrollton_client.post(link, {"clip": upload}).status_code == 400
    with schema_context("carrollton"):
        assert NotificationRecipient.objects.get(pk=concord_id).answer == ""
        assert not FootageClip.objects.exists()

    assert concord_client.get(link).status_code == 200
    assert concord_client.post(link, {"answer": "has_footage"}).status_code == 302
    upload = SimpleUploadedFile("porch.mp4", MP4, "video/mp4")
    assert concord_client.post(link, {"clip": upload}).status_code == 302
    with schema_context("concord"):
        assert NotificationRecipient.objects.get(pk=concord_id).answer == "has_footage"
        assert FootageClip.objects.get().recipient_id == concord_id


def test_an_answer_link_expires_after_30_days(
    make_resident, make_staff, concord_client, django_capture_on_commit_callbacks
):
    sent = datetime.now(UTC)
    with time_machine.travel(sent, tick=False):
        _email, _pk = asked_owner(
            "concord", make_resident, make_staff, django_capture_on_commit_callbacks, footage=False
        )
    link = path_in(mail.outbox[0], r"/answer/\S+/")
    with time_machine.travel(sent + timedelta(days=31), tick=False):
        response = concord_client.post(link, {"answer": "nothing"})
    assert response.status_code == 410
    assert "This link has expired." in response.content.decode()


# --- allauth's email confirmation ---


def unverified_account(schema: str, pk: int, email: str) -> None:
    user = user_with_id(schema, pk, email, password="a-long-and-unusual-passphrase")
    with schema_context(schema):
        EmailAddress.objects.create(id=pk, user=user, email=email, primary=True, verified=False)


def test_an_email_confirmation_works_only_in_its_own_city(concord_client, carrollton_client):
    unverified_account("concord", COLLIDING_ID, "rosa@example.org")
    unverified_account("carrollton", COLLIDING_ID, "sam@example.org")
    # Signing in with an unverified address sends the confirmation link.
    concord_client.post(
        "/accounts/login/",
        {"login": "rosa@example.org", "password": "a-long-and-unusual-passphrase"},
    )
    link = path_in(mail.outbox[0], r"/accounts/confirm-email/\S+/")

    page = carrollton_client.get(link)
    assert "sam@example.org" not in page.content.decode()
    assert "This email confirmation link expired or is invalid." in page.content.decode()
    assert carrollton_client.post(link).status_code == 404
    with schema_context("carrollton"):
        assert not EmailAddress.objects.get(pk=COLLIDING_ID).verified

    assert "rosa@example.org" in concord_client.get(link).content.decode()
    concord_client.post(link)
    with schema_context("concord"):
        assert EmailAddress.objects.get(pk=COLLIDING_ID).verified


def test_an_email_confirmation_on_the_platform_works_there_only(platform_client, concord_client):
    """Vendor staff confirm their addresses on the platform host (public schema) the same way."""
    unverified_account("public", COLLIDING_ID, "ops@canvass.example.org")
    unverified_account("concord", COLLIDING_ID, "rosa@example.org")
    with schema_context("public"):
        key = EmailConfirmation(EmailAddress.objects.get(pk=COLLIDING_ID)).key
    link = f"/accounts/confirm-email/{key}/"
    assert concord_client.post(link).status_code == 404
    platform_client.post(link)
    with schema_context("public"):
        assert EmailAddress.objects.get(pk=COLLIDING_ID).verified
    with schema_context("concord"):
        assert not EmailAddress.objects.get(pk=COLLIDING_ID).verified


# --- The yearly confirmation ---

REGISTERED = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
ANNIVERSARY = REGISTERED + timedelta(days=365)


def registered_participant(schema: str, pk: int, email: str) -> None:
    """A participant with a fixed id who registered a site, through the portal, on REGISTERED."""
    user = user_with_id(schema, pk, email)
    with schema_context(schema):
        EmailAddress.objects.create(user=user, email=email, primary=True, verified=True)
        Participant.objects.create(id=pk, user=user)
        client = Client(HTTP_HOST=f"{schema}.localhost")
        client.force_login(user)
    with time_machine.travel(REGISTERED, tick=False):
        assert client.post("/register/", _site(schema)).status_code == 302


def confirmed_at(schema: str) -> datetime:
    with schema_context(schema):
        return Participant.objects.get(pk=COLLIDING_ID).confirmed_at


def test_a_yearly_confirmation_works_only_in_its_own_city(
    concord_client, carrollton_client, django_capture_on_commit_callbacks
):
    registered_participant("concord", COLLIDING_ID, "alice@example.org")
    registered_participant("carrollton", COLLIDING_ID, "bob@example.org")
    assert confirmed_at("concord") == confirmed_at("carrollton") == REGISTERED
    notice_day = ANNIVERSARY - timedelta(days=30)
    # Concord's yearly run (the daily command runs each city in turn, committing as it goes).
    with (
        time_machine.travel(notice_day, tick=False),
        tenant_context(Department.objects.get(schema_name="concord")),
        django_capture_on_commit_callbacks(execute=True),
    ):
        registrations_verify(
            program=Program.objects.get(department__schema_name="concord"), now=notice_day
        )
    notice = next(m for m in mail.outbox if m.to == ["alice@example.org"])
    link = path_in(notice, r"/verify/[^/\s]+/")

    with time_machine.travel(notice_day + timedelta(days=1), tick=False):
        for method in (carrollton_client.get, carrollton_client.post):
            response = method(link)
            assert response.status_code == 400
            assert "This link is not valid." in response.content.decode()
        assert confirmed_at("carrollton") == REGISTERED

        page = concord_client.get(link)
        assert page.status_code == 200
        assert "Confirm my cameras are still active" in page.content.decode()
        assert confirmed_at("concord") == REGISTERED
        assert concord_client.post(link).status_code == 200
    assert confirmed_at("concord") == notice_day + timedelta(days=1)
    again = concord_client.post(link)
    assert again.status_code == 410
    assert "This link has already been used." in again.content.decode()


# --- Set-password links: invitations, first administrators and password resets ---


def staff_account(schema: str, password: str) -> AbstractBaseUser:
    """A staff account with the colliding id; the same email and password hash in both cities,
    so that nothing but the city tells the two apart."""
    user = user_with_id(schema, COLLIDING_ID, "dana@example.org")
    with schema_context(schema):
        user.password = password
        user.save(update_fields=["password"])
        EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=True)
        StaffMember.objects.create(user=user, role=StaffMember.Role.ANALYST)
    return user


def invitation(concord_client: Client, capture: Callable) -> str:
    """The link of an invitation (as sent to invitees and to a new department's first
    administrator)."""
    with schema_context("concord"):
        member = StaffMember.objects.get(user_id=COLLIDING_ID)
        with capture(execute=True):
            staff_invitation_send(
                member=member, department=Department.objects.get(schema_name="concord")
            )
    return path_in(mail.outbox[-1], r"/accounts/password/reset/key/\S+/")


def password_reset(concord_client: Client, capture: Callable) -> str:
    """The link of allauth's own password reset."""
    concord_client.post("/accounts/password/reset/", {"email": "dana@example.org"})
    return path_in(mail.outbox[-1], r"/accounts/password/reset/key/\S+/")


def password_set_through(client: Client, link: str) -> int:
    """Follow a set-password link as a browser does and choose a password; the last status."""
    page = client.get(link, follow=True)
    target = page.redirect_chain[-1][0] if page.redirect_chain else link
    new = "a-new-and-long-passphrase"
    return client.post(target, {"password1": new, "password2": new}).status_code


@pytest.mark.parametrize("send", [invitation, password_reset], ids=["invitation", "reset"])
def test_a_set_password_link_works_only_in_its_own_city(
    send, concord_client, carrollton_client, django_capture_on_commit_callbacks
):
    password = make_password(None if send is invitation else "the-old-passphrase-here")
    concord_user = staff_account("concord", password)
    staff_account("carrollton", password)
    link = send(concord_client, django_capture_on_commit_callbacks)

    page = carrollton_client.get(link, follow=True)
    assert "The password reset link was invalid" in page.content.decode()
    password_set_through(carrollton_client, link)
    with schema_context("carrollton"):
        assert get_user_model().objects.get(pk=COLLIDING_ID).password == password

    assert password_set_through(concord_client, link) == 302
    with schema_context("concord"):
        user = get_user_model().objects.get(pk=concord_user.pk)
        assert user.check_password("a-new-and-long-passphrase")
