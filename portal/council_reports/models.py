"""A council report: the figures of a date range computed from the department's records, the
fields the department fills in, and, once published, the signed statement of what it was
computed from. Figures are stored already suppressed (counts under 5 never stored)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import pgettext_lazy


class CouncilReportQuerySet(models.QuerySet["CouncilReport"]):
    def published(self) -> CouncilReportQuerySet:
        return self.filter(status=CouncilReport.Status.PUBLISHED)


class CouncilReport(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", pgettext_lazy("council_reports", "Draft")
        PUBLISHED = "published", pgettext_lazy("council_reports", "Published")

    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DRAFT)
    period_start = models.DateField()
    period_end = models.DateField()
    generated_at = models.DateTimeField()
    # The figures (portal.council_reports.figures.report_figures), as published.
    figures = models.JSONField()
    # The department's own words, published as written.
    complaints = models.TextField(
        pgettext_lazy("council_reports", "complaints received"), blank=True, max_length=4000
    )
    costs = models.TextField(pgettext_lazy("council_reports", "costs"), blank=True, max_length=4000)
    funding_source = models.TextField(
        pgettext_lazy("council_reports", "funding source"), blank=True, max_length=4000
    )
    effectiveness = models.TextField(
        pgettext_lazy("council_reports", "effectiveness notes"), blank=True, max_length=4000
    )
    published_at = models.DateTimeField(null=True, blank=True)
    # SHA-256 of the canonical JSON of figures and the department's fields, and the signed
    # statement naming the city, the period, the audit entries and that digest.
    digest = models.CharField(max_length=64, blank=True)
    statement = models.TextField(blank=True)

    objects = CouncilReportQuerySet.as_manager()

    class Meta:
        ordering = ["-period_end", "-pk"]

    def __str__(self) -> str:
        return f"Council report {self.pk} ({self.period_start} to {self.period_end})"

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED

    def department_fields(self) -> dict[str, str]:
        return {
            "complaints": self.complaints,
            "costs": self.costs,
            "funding_source": self.funding_source,
            "effectiveness": self.effectiveness,
        }


class ChainCheck(models.Model):
    """One verification of the audit trail's hash chain run for a report (the registry's
    scheduled check only logs its verdict): reused while it covers the report's entries."""

    checked_at = models.DateTimeField()
    entries = models.PositiveBigIntegerField()
    last_entry_id = models.BigIntegerField(null=True)
    # The hash of that entry as checked: a later check walks only the entries after it.
    last_entry_hash = models.CharField(max_length=64, blank=True)
    broken_at = models.BigIntegerField(null=True)
    # A check of the entries after this one's only (its `entries` include that one's).
    after = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, related_name="+")

    class Meta:
        ordering = ["-checked_at", "-pk"]

    def __str__(self) -> str:
        return f"Chain check {self.checked_at:%Y-%m-%d %H:%M}"
