"""The limits a department sets on its own access (one row per city) and the second approvals
they call for."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from portal.registry.models import StaffMember


class Guardrails(models.Model):
    """One city's guardrails; a city without a row has none (Guardrails.current creates the
    defaults, which keep the program's settings as the only limits)."""

    # {offence type code: metres}: the widest canvass for that type (under the program's
    # outer cap, Program.search_radius_max_m). A type not listed has only the outer cap.
    radius_max_m: models.JSONField[dict[str, int], dict[str, int]] = models.JSONField(
        default=dict, blank=True
    )
    # {offence type code: hours}: the longest time window a canvass of that type searches.
    window_max_hours: models.JSONField[dict[str, int], dict[str, int]] = models.JSONField(
        default=dict, blank=True
    )
    # The live-view reason codes (Program.live_reasons) that may open a live view; None: all.
    live_reasons_allowed: models.JSONField[list[str] | None, list[str] | None] = models.JSONField(
        null=True, blank=True
    )
    # The longest live-view grant in minutes; None: the program's grant length only.
    live_grant_minutes_max = models.PositiveIntegerField(null=True, blank=True)
    reveal_second_approval = models.BooleanField(default=False)
    # A live view for a reason that is not an emergency needs a second staff member's approval.
    live_second_approval = models.BooleanField(default=False)
    # Reveals one staff member makes in a day (the city's day) before an administrator must
    # approve each further one; None: no cap.
    reveal_daily_cap = models.PositiveIntegerField(null=True, blank=True)
    # An action outside the guardrails may proceed, for an emergency, with an administrator's
    # approval; it is counted as an exception.
    emergency_overrides = models.BooleanField(default=False)
    updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "guardrails"

    def __str__(self) -> str:
        return "Guardrails"

    @classmethod
    def current(cls) -> Guardrails:
        """The city's guardrails: the saved row, or the defaults (unsaved) until an
        administrator first sets them (reading writes nothing)."""
        return cls.objects.filter(pk=1).first() or cls(pk=1)


class ApprovalRequest(models.Model):
    """An action a guardrail holds until another staff member approves it: a reveal or a live
    view, with everything needed to run it on approval."""

    class Kind(models.TextChoices):
        REVEAL = "reveal", _("Reveal contact details")
        LIVE_VIEW = "live_view", _("Open a live view")

    class Rule(models.TextChoices):
        SECOND_APPROVAL = "second_approval", _("A second staff member must approve")
        DAILY_CAP = "daily_cap", _("Over the daily cap on reveals: an administrator approves")
        OVERRIDE = "override", _("Emergency override of a guardrail: an administrator approves")

    class Status(models.TextChoices):
        PENDING = "pending", pgettext_lazy("guardrails", "Waiting for approval")
        APPROVED = "approved", pgettext_lazy("guardrails", "Approved")
        DECLINED = "declined", _("Declined")

    kind = models.CharField(max_length=16, choices=Kind.choices)
    rule = models.CharField(max_length=20, choices=Rule.choices)
    # The refusal the request answers, as shown to the requester (no personal data).
    why = models.CharField(max_length=500)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    requested_by = models.ForeignKey(StaffMember, on_delete=models.PROTECT, related_name="+")
    requested_from = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        StaffMember, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    # A reveal: the incident and site; a live view: the camera, reason code, case and minutes.
    incident = models.ForeignKey(
        "department.Incident", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    site = models.ForeignKey(
        "registry.Site", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    camera = models.ForeignKey(
        "registry.Camera", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    reason = models.CharField(max_length=40, blank=True)
    case_number = models.CharField(max_length=40, blank=True)
    minutes = models.PositiveIntegerField(null=True, blank=True)
    note = models.CharField(max_length=500, blank=True)
    # What the approval made: the live view's grant.
    grant_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_status_display()})"

    @property
    def needs_administrator(self) -> bool:
        return self.rule != self.Rule.SECOND_APPROVAL
