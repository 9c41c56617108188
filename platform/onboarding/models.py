"""Program requests: a department asks for a Canvass program on the platform site, confirms its
email, and vendor staff review, approve and provision it (public schema).

The life of a request is its status (ProgramRequest.TRANSITIONS is the one rule of which step
may follow which) and its history (ProgramRequestEvent, appended by the services only:
onboarding.requests for the requester's steps, onboarding.review for the vendor's,
console's provisioning for the last one)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinLengthValidator, RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from tenants.models import Department, validate_time_zone

# The largest registry a request may announce (a state-wide program is far below it).
EXPECTED_CAMERAS_MAX = 1_000_000


class ProgramRequest(models.Model):
    """One department's request for a program, from the public form to a live portal."""

    class Status(models.TextChoices):
        # Submitted, the confirmation link emailed, not yet followed: not in the vendor's queue.
        UNCONFIRMED = "unconfirmed", _("Email not confirmed")
        NEW = "new", _("New")
        IN_REVIEW = "in_review", _("In review")
        APPROVED = "approved", _("Approved")
        DECLINED = "declined", _("Declined")
        # Provisioned from this request: ProgramRequest.department is its department.
        PROVISIONED = "provisioned", _("Live")

    class Purchasing(models.TextChoices):
        PURCHASE_ORDER = "purchase_order", _("Purchase order")
        COOPERATIVE = "cooperative", _("Cooperative contract")
        CARD = "card", _("Card")

    # Which status may follow which (vendor steps; UNCONFIRMED -> NEW is the requester's
    # confirmation, APPROVED -> PROVISIONED the provisioning's own step).
    TRANSITIONS: dict[str, frozenset[str]] = {
        Status.UNCONFIRMED: frozenset({Status.NEW}),
        Status.NEW: frozenset({Status.IN_REVIEW, Status.APPROVED, Status.DECLINED}),
        Status.IN_REVIEW: frozenset({Status.APPROVED, Status.DECLINED}),
        Status.APPROVED: frozenset({Status.IN_REVIEW, Status.DECLINED, Status.PROVISIONED}),
        Status.DECLINED: frozenset({Status.IN_REVIEW}),
        Status.PROVISIONED: frozenset(),
    }

    agency_name: models.CharField[str, str] = models.CharField(
        _("agency name"),
        max_length=100,
        validators=[MinLengthValidator(2)],
        help_text=_("The department's official name, e.g. Concord Police Department."),
    )
    city: models.CharField[str, str] = models.CharField(_("city"), max_length=100)
    state: models.CharField[str, str] = models.CharField(
        _("state"),
        max_length=2,
        validators=[RegexValidator(r"^[A-Z]{2}$", _("Use the two-letter state code, e.g. NC."))],
    )
    time_zone: models.CharField[str, str] = models.CharField(
        _("time zone"), max_length=64, default="America/New_York", validators=[validate_time_zone]
    )
    contact_name: models.CharField[str, str] = models.CharField(_("your name"), max_length=100)
    contact_title: models.CharField[str, str] = models.CharField(_("your title"), max_length=100)
    # At most an account's username (150): the contact becomes the first administrator.
    contact_email: models.EmailField[str, str] = models.EmailField(_("work email"), max_length=150)
    contact_phone: models.CharField[str, str] = models.CharField(_("work phone"), max_length=32)
    expected_cameras: models.PositiveIntegerField[int, int] = models.PositiveIntegerField(
        _("expected number of cameras"), validators=[MaxValueValidator(EXPECTED_CAMERAS_MAX)]
    )
    wants_devices: models.BooleanField[bool, bool] = models.BooleanField(
        _("interested in integration devices (live view)"), default=False
    )
    subdomain: models.CharField[str, str] = models.CharField(_("portal address"), max_length=30)
    purchasing: models.CharField[str, str] = models.CharField(
        _("how you buy"), max_length=16, choices=Purchasing.choices
    )
    # The cooperative contract's name or number, a PO's reference, anything about buying.
    purchasing_note: models.CharField[str, str] = models.CharField(
        _("purchasing details"), max_length=200, blank=True
    )
    message: models.TextField[str, str] = models.TextField(
        _("anything else we should know"), max_length=2000, blank=True
    )
    # The language the form was filled in: every email to the requester is in it.
    language: models.CharField[str, str] = models.CharField(max_length=8, default="en")

    status: models.CharField[str, str] = models.CharField(
        max_length=16, choices=Status.choices, default=Status.UNCONFIRMED, db_index=True
    )
    email_confirmed_at: models.DateTimeField[datetime | None, datetime | None] = (
        models.DateTimeField(null=True, blank=True)
    )
    # A free-mail address (not an agency's): accepted, shown to reviewers as a flag.
    personal_email: models.BooleanField[bool, bool] = models.BooleanField(default=False)
    # An earlier open request for the same city (or the same portal address) this one repeats.
    duplicate_of: models.ForeignKey[Any, Any] = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="duplicates"
    )
    # The department provisioned from this request.
    department: models.ForeignKey[Any, Any] = models.ForeignKey(
        Department,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="program_requests",
    )
    created_at: models.DateTimeField[datetime, datetime] = models.DateTimeField(
        auto_now_add=True, db_index=True
    )
    updated_at: models.DateTimeField[datetime, datetime] = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.agency_name} ({self.city}, {self.state})"

    def can_become(self, status: str) -> bool:
        return status in self.TRANSITIONS.get(self.status, frozenset())

    @property
    def is_open(self) -> bool:
        """Still on its way (not declined, not live)."""
        return self.status not in {self.Status.DECLINED, self.Status.PROVISIONED}


class ProgramRequestEvent(models.Model):
    """One line of a request's history: appended, never changed."""

    class Kind(models.TextChoices):
        SUBMITTED = "submitted", _("Submitted")
        CONFIRMED = "confirmed", _("Email confirmed")
        STATUS = "status", _("Status changed")
        NOTE = "note", _("Note")
        EMAILED = "emailed", _("Requester emailed")
        LINKED = "linked", _("Linked as a duplicate")
        FLAGGED = "flagged", _("Flagged for review")
        PROVISIONED = "provisioned", _("Provisioned")
        FAILED = "failed", _("Provisioning failed")

    request: models.ForeignKey[Any, Any] = models.ForeignKey(
        ProgramRequest, on_delete=models.CASCADE, related_name="events"
    )
    at: models.DateTimeField[datetime, datetime] = models.DateTimeField(auto_now_add=True)
    # Vendor staff; None for the requester and for the platform itself.
    actor: models.ForeignKey[Any, Any] = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    kind: models.CharField[str, str] = models.CharField(max_length=16, choices=Kind.choices)
    from_status: models.CharField[str, str] = models.CharField(max_length=16, blank=True)
    to_status: models.CharField[str, str] = models.CharField(max_length=16, blank=True)
    text: models.TextField[str, str] = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.request_id} {self.kind} {self.at:%Y-%m-%d %H:%M}"
