"""What a council member or auditor records about the audit trail: flags on entries to look at,
findings, and the department administrators' answers to them. They hold ids and the oversight
account's own words, never a resident's data."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import pgettext_lazy

from portal.registry.models import StaffMember


class Flag(models.Model):
    """An audit entry an oversight account marked for review."""

    # The entry by id, as entries refer to sites: a foreign key would lock the append-only
    # table's rows, which the application's role may not do.
    entry_id = models.BigIntegerField(db_index=True)
    flagged_by = models.ForeignKey(
        StaffMember, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    flagged_at = models.DateTimeField(default=timezone.now)
    note = models.CharField(pgettext_lazy("oversight", "note"), max_length=500, blank=True)

    class Meta:
        ordering = ["-flagged_at", "-pk"]

    def __str__(self) -> str:
        return f"Flag {self.pk} on entry {self.entry_id}"


class FindingQuerySet(models.QuerySet["Finding"]):
    def open(self) -> FindingQuerySet:
        return self.filter(resolved_at__isnull=True)


class Finding(models.Model):
    """What an oversight account found about an entry (through a flag or directly), and the
    department administrator's resolution of it."""

    class Severity(models.TextChoices):
        OBSERVATION = "observation", pgettext_lazy("oversight", "Observation")
        CONCERN = "concern", pgettext_lazy("oversight", "Concern")
        VIOLATION = "violation", pgettext_lazy("oversight", "Policy violation")

    entry_id = models.BigIntegerField(db_index=True)
    flag = models.ForeignKey(
        Flag, null=True, blank=True, on_delete=models.PROTECT, related_name="findings"
    )
    text = models.TextField(pgettext_lazy("oversight", "finding"), max_length=4000)
    severity = models.CharField(
        pgettext_lazy("oversight", "severity"), max_length=12, choices=Severity.choices
    )
    recorded_by = models.ForeignKey(
        StaffMember, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now, db_index=True)
    resolution = models.TextField(
        pgettext_lazy("oversight", "resolution"), max_length=4000, blank=True
    )
    resolved_by = models.ForeignKey(
        StaffMember, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True, db_index=True)

    objects = FindingQuerySet.as_manager()

    class Meta:
        ordering = ["-recorded_at", "-pk"]

    def __str__(self) -> str:
        return f"Finding {self.pk} on entry {self.entry_id}"

    @property
    def is_resolved(self) -> bool:
        return self.resolved_at is not None
