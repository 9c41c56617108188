"""Owners' notices of access, in each department's own schema: one notice per owner per audit
entry that touched their data (a reveal, a footage request, a live view), the owner's choice of
at once or a weekly summary, and the delays a department holds notices back by while an
investigation is open (bounded by the department's maximum, itself at most 90 days)."""

from __future__ import annotations

from datetime import datetime

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from portal.department.models import Incident
from portal.registry.models import Participant, StaffMember

# No department may hold a notice back longer than this, whatever its own maximum says.
DELAY_DAYS_MOST = 90


class NoticeSettings(models.Model):
    """The department's own bound on delays (one row per schema, made by the migration)."""

    ONLY = 1

    id = models.PositiveSmallIntegerField(primary_key=True, default=ONLY)
    delay_max_days = models.PositiveSmallIntegerField(
        _("longest delay of an owner's notice (days)"),
        default=30,
        validators=[MinValueValidator(0), MaxValueValidator(DELAY_DAYS_MOST)],
        help_text=_("0 allows no delay; at most 90 days."),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(id=1), name="notice_settings_only_one"),
            models.CheckConstraint(
                condition=Q(delay_max_days__lte=DELAY_DAYS_MOST), name="notice_delay_max_bounded"
            ),
        ]

    def __str__(self) -> str:
        return f"Notice delays up to {self.delay_max_days} days"


class NoticeMark(models.Model):
    """How far the collecting job has read the audit trail: entries from `installed_at` on
    (nothing older than the feature is announced), the highest entry id read so far."""

    ONLY = 1

    id = models.PositiveSmallIntegerField(primary_key=True, default=ONLY)
    installed_at = models.DateTimeField()
    last_entry_id = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(id=1), name="notice_mark_only_one")]

    def __str__(self) -> str:
        return f"Notices collected up to entry {self.last_entry_id}"


class NoticePreference(models.Model):
    """How an owner hears of access to their data; no row means at once."""

    class Frequency(models.TextChoices):
        AT_ONCE = "at_once", _("An email at each access")
        WEEKLY = "weekly", _("One summary a week")

    participant = models.OneToOneField(
        Participant, on_delete=models.CASCADE, related_name="notice_preference"
    )
    frequency = models.CharField(
        _("tell me"), max_length=8, choices=Frequency.choices, default=Frequency.AT_ONCE
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Participant {self.participant_id}: {self.frequency}"


class InvestigationClosure(models.Model):
    """An investigation its staff declared closed: its held notices go out, no new delay."""

    incident = models.OneToOneField(Incident, on_delete=models.CASCADE, related_name="+")
    closed_at = models.DateTimeField()
    closed_by = models.ForeignKey(
        StaffMember, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return f"Investigation {self.incident_id} closed"


class InvestigationDelayQuerySet(models.QuerySet["InvestigationDelay"]):
    def holding(self, now: datetime) -> InvestigationDelayQuerySet:
        """Delays still holding notices back: not past their end, investigation not closed."""
        return self.filter(until__gt=now, released_at__isnull=True)


class InvestigationDelay(models.Model):
    """One incident's delay of its owners' notices, chosen by an investigator with a reason,
    within the department's maximum. Set once; closing the investigation releases it."""

    incident = models.OneToOneField(Incident, on_delete=models.CASCADE, related_name="+")
    days = models.PositiveSmallIntegerField(validators=[MaxValueValidator(DELAY_DAYS_MOST)])
    reason = models.CharField(max_length=300)
    set_by = models.ForeignKey(StaffMember, null=True, on_delete=models.SET_NULL, related_name="+")
    set_at = models.DateTimeField()
    until = models.DateTimeField()
    released_at = models.DateTimeField(null=True, blank=True)

    objects = InvestigationDelayQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(days__gte=1, days__lte=DELAY_DAYS_MOST), name="notice_delay_bounded"
            )
        ]

    def __str__(self) -> str:
        return f"Notices of incident {self.incident_id} delayed {self.days} days"


class AccessNotice(models.Model):
    """One owner's notice of one audit entry about their data. Claimed (committed) before its
    email goes out and marked sent after: a run that stops in between never sends it again."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to be sent")
        SENT = "sent", _("Sent")
        SKIPPED = "skipped", _("Not sent")

    class Skipped(models.TextChoices):
        NO_EMAIL = "no_email", "The owner has no email address"
        UNDELIVERABLE = "undeliverable", "The owner's address is undeliverable"
        REMOVED = "removed", "The owner's registration was removed"
        LEFT = "left", "The owner opted out: the site is gone"
        # Grants opened before live views were told by access notices, told by their own.
        LIVE_VIEW_NOTICE = "live_view_notice", "Told by live view's own notice"

    audit_entry_id = models.BigIntegerField()
    participant = models.ForeignKey(
        Participant, on_delete=models.CASCADE, related_name="access_notices"
    )
    action = models.CharField(max_length=20)
    site_id = models.BigIntegerField(null=True, blank=True)
    incident_id = models.BigIntegerField(null=True, blank=True)
    case_number = models.CharField(max_length=40, blank=True)
    category = models.CharField(max_length=40, blank=True)
    accessed_at = models.DateTimeField()
    # When the owner may be told: the access itself, or the end of its incident's delay.
    due_at = models.DateTimeField()
    delay = models.ForeignKey(
        InvestigationDelay, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    skipped = models.CharField(max_length=16, choices=Skipped.choices, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    digest = models.BooleanField(default=False)

    class Meta:
        ordering = ["accessed_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["audit_entry_id", "participant"], name="one_notice_per_entry_and_owner"
            )
        ]
        indexes = [
            models.Index(
                fields=["due_at"],
                name="access_notice_due",
                condition=Q(status="pending", claimed_at__isnull=True),
            ),
            models.Index(fields=["incident_id"], name="access_notice_incident"),
        ]

    def __str__(self) -> str:
        return f"Notice of entry {self.audit_entry_id} to participant {self.participant_id}"

    @property
    def held_days(self) -> int:
        """How many days the notice was held back for an open investigation (0: not held)."""
        if self.delay_id is None or self.due_at <= self.accessed_at:
            return 0
        return round((self.due_at - self.accessed_at).total_seconds() / 86400)

    @property
    def emergency_hours(self) -> int:
        """How many hours an emergency live view's notice was held back (0: not held)."""
        if self.delay_id is not None or self.due_at <= self.accessed_at:
            return 0
        return max(1, round((self.due_at - self.accessed_at).total_seconds() / 3600))
