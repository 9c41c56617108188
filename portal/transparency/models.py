"""What the public transparency page publishes: the department's own words on policy, retention
and funding (each save a new version), the monthly figures the scheduled job computes from the
records, and the audit chain's latest check. Nothing here names a person, an address or a case."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Policy(models.Model):
    """One version of the department's published texts; the newest is shown. Rows are only ever
    added, so earlier versions stay for the record."""

    policy_text = models.TextField(_("policy"), max_length=20_000, blank=True)
    retention_text = models.TextField(_("retention rules"), max_length=10_000, blank=True)
    funding_text = models.TextField(_("funding"), max_length=10_000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Transparency texts of {self.created_at:%Y-%m-%d}"


class MonthlyFigure(models.Model):
    """One precomputed number: a metric in a month (the first day, in the city's time zone),
    for a reason category ("" when the metric has none) and an area ("" for the whole city)."""

    month = models.DateField()
    metric = models.CharField(max_length=40)
    category = models.CharField(max_length=40, blank=True)
    area = models.CharField(max_length=20, blank=True)
    value = models.BigIntegerField()

    class Meta:
        ordering = ["month", "metric", "category", "area"]
        constraints = [
            models.UniqueConstraint(
                fields=["month", "metric", "category", "area"], name="one_figure_per_cell"
            )
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.metric} {self.category or '-'} {self.area or '-'}"


class MonthComputed(models.Model):
    """When a month's figures were last computed. A month that ended before its last computation
    is closed: later refreshes keep its figures (records deleted by an opt-out since, such as
    live-view grants, must not rewrite published history)."""

    month = models.DateField(unique=True)
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["month"]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} computed {self.computed_at:%Y-%m-%d %H:%M}"


class ChainCheck(models.Model):
    """One run of the audit trail's hash-chain check (portal.registry.audit_chain), its result."""

    checked_at = models.DateTimeField(db_index=True)
    intact = models.BooleanField()
    entries = models.PositiveBigIntegerField()

    class Meta:
        ordering = ["-checked_at", "-pk"]

    def __str__(self) -> str:
        return (
            f"Chain check {self.checked_at:%Y-%m-%d %H:%M}: {'intact' if self.intact else 'broken'}"
        )
