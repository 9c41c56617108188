"""The requester's steps of a program request (public schema): whether a portal address is
free, submitting the form, confirming the email address, and the limits that keep the public
form from being used for spam."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F, Func, Q, Value
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from console.access import vendor_can
from console.models import VendorCapability
from onboarding.emails import platform_department, requester_email
from onboarding.models import ProgramRequest, ProgramRequestEvent
from portal.registry.emails import email_send
from tenants.account_lock import counter_add, login_key
from tenants.cache import LimitsUnavailable
from tenants.models import Department, Domain
from tenants.services import department_hostname, subdomain_validate
from tenants.signing import MAX_AGE, Link, LinkError, link_id, link_read, link_sign

# Free-mail providers: a contact address there is accepted but flagged (not an agency's own).
FREE_MAIL_DOMAINS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "yahoo.com",
        "ymail.com",
        "outlook.com",
        "hotmail.com",
        "live.com",
        "msn.com",
        "aol.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "proton.me",
        "protonmail.com",
        "gmx.com",
        "gmx.net",
        "mail.com",
        "zoho.com",
        "yandex.com",
        "comcast.net",
        "att.net",
        "verizon.net",
        "sbcglobal.net",
    }
)

# Requests that count when looking for an earlier one: those in the vendor's queue.
QUEUED_STATUSES = (
    ProgramRequest.Status.NEW,
    ProgramRequest.Status.IN_REVIEW,
    ProgramRequest.Status.APPROVED,
)

# One lock for every submission: two requests for the same city at the same moment still see
# each other (submissions are rare; serialising them costs nothing).
SUBMIT_LOCK = 0x0C4A_5001

PERSONAL_EMAIL_FLAG = "personal email address"
CITY_SERVED_FLAG = "a department already serves this city"


def is_personal_email(email: str) -> bool:
    return email.rsplit("@", 1)[-1].strip().lower() in FREE_MAIL_DOMAINS


def city_key(city: str) -> str:
    """A city's name for comparisons: case and spacing do not make another city."""
    return " ".join(city.split()).lower()


def subdomain_available(subdomain: str) -> str:
    """The schema name a requested portal address would get; a ValidationError saying why it
    cannot be had (malformed, reserved, or taken by a department)."""
    schema_name = subdomain_validate(subdomain)
    taken = (
        Department.objects.filter(schema_name=schema_name).exists()
        or Domain.objects.filter(domain=department_hostname(subdomain)).exists()
    )
    if taken:
        raise ValidationError(
            _("The address “%(subdomain)s” is already a department's portal; choose another."),
            params={"subdomain": subdomain},
            code="subdomain_taken",
        )
    return schema_name


# ---------------------------------------------------------------------------------------------
# Limits (counted in the shared cache, like tenants.account_lock's sign-in counters)
# ---------------------------------------------------------------------------------------------


def _over(key: str, limit: int, window_seconds: int) -> bool:
    """Whether this count passes the limit; while Redis is down (nothing can be counted) every
    count does: the request is refused with the limit's own message, never let through."""
    try:
        return counter_add(key, window_seconds) > limit
    except LimitsUnavailable:
        return True


def submission_allowed(*, ip: str | None, email: str | None) -> bool:
    """Count one submission from this address and for this email address (None: a bot's, whose
    address alone counts); False when either is over its limit (5 an hour per address, 3 a day
    per email by default). Both counts are made, so that a refused submission still counts."""
    by_address = _over(
        f"program-request:address:{ip or 'unknown'}",
        settings.PROGRAM_REQUESTS_PER_ADDRESS_HOUR,
        3600,
    )
    by_email = email is not None and _over(
        f"program-request:email:{login_key(email)}",
        settings.PROGRAM_REQUESTS_PER_EMAIL_DAY,
        24 * 3600,
    )
    return not (by_address or by_email)


def resend_allowed(*, ip: str | None, program_request_id: int) -> bool:
    """Count one "send the confirmation again" for this request and from this address."""
    by_request = _over(
        f"program-request:resend:{program_request_id}",
        settings.PROGRAM_REQUEST_RESENDS_PER_HOUR,
        3600,
    )
    by_address = _over(
        f"program-request:resend-address:{ip or 'unknown'}",
        settings.PROGRAM_REQUEST_RESENDS_PER_HOUR,
        3600,
    )
    return not (by_request or by_address)


def subdomain_check_allowed(ip: str | None) -> bool:
    """Count one live subdomain check from this address (the endpoint tells what is taken)."""
    return not _over(
        f"program-request:subdomain-check:{ip or 'unknown'}",
        settings.PROGRAM_REQUEST_SUBDOMAIN_CHECKS_PER_MINUTE,
        60,
    )


# ---------------------------------------------------------------------------------------------
# Submitting
# ---------------------------------------------------------------------------------------------


def _normalised_city() -> Func:
    return Func(Lower(F("city")), Value(r"\s+"), Value(" "), Value("g"), function="regexp_replace")


def _earlier_request(program_request: ProgramRequest) -> ProgramRequest | None:
    """The first open request this (unsaved) one repeats: the same city (and state) or the
    same portal address, among those in the queue and the same person's unconfirmed ones."""
    same_place = Q(state=program_request.state, city_key=city_key(program_request.city)) | Q(
        subdomain=program_request.subdomain
    )
    counted = Q(status__in=QUEUED_STATUSES) | Q(
        status=ProgramRequest.Status.UNCONFIRMED,
        contact_email__iexact=program_request.contact_email,
    )
    return (
        ProgramRequest.objects.annotate(city_key=_normalised_city())
        .filter(same_place & counted)
        .order_by("created_at", "pk")
        .first()
    )


def confirm_token(program_request: ProgramRequest) -> str:
    return link_sign(Link.PROGRAM_REQUEST_CONFIRM, {"r": program_request.pk})


def confirm_url(program_request: ProgramRequest) -> str:
    path = reverse(
        "onboarding:request_confirm",
        args=[confirm_token(program_request)],
        urlconf=settings.PUBLIC_SCHEMA_URLCONF,
    )
    return platform_department().url(path)


def program_request_submit(
    *,
    agency_name: str,
    city: str,
    state: str,
    time_zone: str,
    contact_name: str,
    contact_title: str,
    contact_email: str,
    contact_phone: str,
    expected_cameras: int,
    wants_devices: bool,
    subdomain: str,
    purchasing: str,
    purchasing_note: str = "",
    message: str = "",
    language: str,
) -> ProgramRequest:
    """Record a department's request (unconfirmed, out of the queue until its email address is
    confirmed), flag what reviewers should look at, link it to an earlier request for the same
    city or address, and email the confirmation link. Everything is checked before anything is
    written: a ValidationError (by field) leaves no row and sends nothing."""
    program_request = ProgramRequest(
        agency_name=agency_name.strip(),
        city=" ".join(city.split()),
        state=state.strip().upper(),
        time_zone=time_zone,
        contact_name=contact_name.strip(),
        contact_title=contact_title.strip(),
        contact_email=contact_email.strip(),
        contact_phone=contact_phone.strip(),
        expected_cameras=expected_cameras,
        wants_devices=wants_devices,
        subdomain=subdomain.strip().lower(),
        purchasing=purchasing,
        purchasing_note=purchasing_note.strip(),
        message=message.strip(),
        language=language if language in dict(settings.LANGUAGES) else "en",
        personal_email=is_personal_email(contact_email),
    )
    program_request.full_clean()
    try:
        subdomain_available(program_request.subdomain)
    except ValidationError as error:
        raise ValidationError({"subdomain": error.error_list}) from error

    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SUBMIT_LOCK])
        earlier = _earlier_request(program_request)
        program_request.duplicate_of = earlier
        program_request.save()
        events = ProgramRequestEvent.objects
        events.create(
            request=program_request,
            kind=ProgramRequestEvent.Kind.SUBMITTED,
            to_status=program_request.status,
        )
        if program_request.personal_email:
            events.create(
                request=program_request,
                kind=ProgramRequestEvent.Kind.FLAGGED,
                text=PERSONAL_EMAIL_FLAG,
            )
        served = (
            Department.objects.serving()
            .filter(state=program_request.state, city__iexact=program_request.city)
            .first()
        )
        if served is not None:
            events.create(
                request=program_request,
                kind=ProgramRequestEvent.Kind.FLAGGED,
                text=f"{CITY_SERVED_FLAG} ({served.name}, {served.schema_name})",
            )
        if earlier is not None:
            events.create(
                request=program_request,
                kind=ProgramRequestEvent.Kind.LINKED,
                text=f"repeats request #{earlier.pk} ({earlier})",
            )
            events.create(
                request=earlier,
                kind=ProgramRequestEvent.Kind.LINKED,
                text=f"repeated by request #{program_request.pk} ({program_request})",
            )
        requester_email(
            program_request,
            "request_confirm",
            confirm_url=confirm_url(program_request),
            confirm_days=MAX_AGE[Link.PROGRAM_REQUEST_CONFIRM].days,
        )
    return program_request


def program_request_confirm_resend(program_request_id: int) -> bool:
    """Email the confirmation link again (to the address given, never another), while the
    request waits for it; False when there is nothing to confirm."""
    with transaction.atomic():
        program_request = (
            ProgramRequest.objects.select_for_update().filter(pk=program_request_id).first()
        )
        if program_request is None or is_confirmed(program_request):
            return False
        requester_email(
            program_request,
            "request_confirm",
            confirm_url=confirm_url(program_request),
            confirm_days=MAX_AGE[Link.PROGRAM_REQUEST_CONFIRM].days,
        )
    return True


# ---------------------------------------------------------------------------------------------
# Confirming the email address
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Confirmation:
    program_request: ProgramRequest
    # False when the link had been followed before (the request is already in the queue).
    confirmed_now: bool


def confirm_link_read(token: str) -> ProgramRequest:
    """The request a confirmation link names; LinkError "invalid" or "expired" otherwise (a
    link to a request that no longer exists is invalid)."""
    pk = link_id(link_read(Link.PROGRAM_REQUEST_CONFIRM, token), "r")
    program_request = ProgramRequest.objects.filter(pk=pk).first()
    if program_request is None:
        raise LinkError("invalid")
    return program_request


def is_confirmed(program_request: ProgramRequest) -> bool:
    return program_request.email_confirmed_at is not None


def vendor_reviewer_emails() -> list[str]:
    """The active vendor staff who may provision departments: they hear of each new request."""
    users = get_user_model().objects.filter(is_active=True, is_staff=True)
    return [
        user.email
        for user in users.select_related("vendor_staff").order_by("email")
        if user.email and vendor_can(user, VendorCapability.DEPARTMENTS_MANAGE)
    ]


def queue_url(program_request: ProgramRequest) -> str:
    """The request's page in the vendor console (console:program_request)."""
    path = reverse(
        "console:program_request", args=[program_request.pk], urlconf=settings.PUBLIC_SCHEMA_URLCONF
    )
    return platform_department().url(path)


def program_request_confirm(token: str) -> Confirmation:
    """Follow a confirmation link: the request enters the vendor's queue (UNCONFIRMED -> NEW),
    the requester is told it was received and the vendor's reviewers that it waits. A second
    use changes nothing. LinkError for a tampered, foreign or expired link."""
    pk = confirm_link_read(token).pk
    with transaction.atomic():
        program_request = ProgramRequest.objects.select_for_update().get(pk=pk)
        if is_confirmed(program_request):
            return Confirmation(program_request, confirmed_now=False)
        if not program_request.can_become(ProgramRequest.Status.NEW):
            raise LinkError("invalid")
        from_status = program_request.status
        program_request.status = ProgramRequest.Status.NEW
        program_request.email_confirmed_at = timezone.now()
        program_request.save(update_fields=["status", "email_confirmed_at", "updated_at"])
        ProgramRequestEvent.objects.create(
            request=program_request,
            kind=ProgramRequestEvent.Kind.CONFIRMED,
            from_status=from_status,
            to_status=program_request.status,
        )
        requester_email(
            program_request,
            "request_received",
            review_days=settings.PROGRAM_REQUEST_REVIEW_BUSINESS_DAYS,
        )
        _vendor_notify(program_request)
    return Confirmation(program_request, confirmed_now=True)


def _vendor_notify(program_request: ProgramRequest) -> None:
    """Email each reviewer (in English: the console's language), after commit."""
    platform = platform_department()
    context: dict[str, Any] = {
        "request": program_request,
        "queue_url": queue_url(program_request),
        "flags": list(
            program_request.events.filter(kind=ProgramRequestEvent.Kind.FLAGGED).values_list(
                "text", flat=True
            )
        ),
    }
    recipients = vendor_reviewer_emails()

    def send() -> None:
        for email in recipients:
            email_send(
                template="onboarding/email/vendor_new_request",
                to=email,
                language="en",
                context=context,
                department=platform,
                from_platform=True,
            )

    transaction.on_commit(send)
