"""Writes of council reports: generate a draft (one at a time per department), fill in the
department's fields, publish (freeze and sign, once). And the check of a published report's
signed statement, which anyone may run."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.core import signing
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.council_reports.figures import report_figures
from portal.council_reports.models import CouncilReport
from portal.registry.models import AuditEntry
from tenants.models import Department

# The longest period a report may cover.
MAX_YEARS = 5
STATEMENT_SALT = "council_reports.statement"
DEPARTMENT_FIELDS = ("complaints", "costs", "funding_source", "effectiveness")


class ReportRefused(Exception):
    """A request refused with a message for the administrator (already translated)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def period_check(start: date, end: date) -> None:
    if end < start:
        raise ReportRefused(
            _(
                "The report's period ends before it starts: pick "
                "an end date on or after the start date."
            )
        )
    try:
        limit = start.replace(year=start.year + MAX_YEARS)
    except ValueError:  # 29 February
        limit = date(start.year + MAX_YEARS, 3, 1)
    if end >= limit:
        raise ReportRefused(
            _("A report may cover at most %(years)s years: shorten the period.")
            % {"years": MAX_YEARS}
        )


def _lock_key(schema_name: str) -> tuple[str, str]:
    return ("council_reports.generate", schema_name)


def report_generate(*, department: Department, start: date, end: date) -> CouncilReport:
    """Compute a draft report for the period, in one transaction holding the department's
    generation lock: a second request while one runs is refused (nothing written)."""
    period_check(start, end)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_try_advisory_xact_lock(hashtext(%s), hashtext(%s))",
                _lock_key(department.schema_name),
            )
            (acquired,) = cursor.fetchone()
        if not acquired:
            raise ReportRefused(
                _(
                    "A report is being generated for this department: "
                    "wait a moment and reload the reports page."
                )
            )
        now = timezone.now()
        figures = report_figures(program=department.program, start=start, end=end, now=now)
        return CouncilReport.objects.create(
            period_start=start, period_end=end, generated_at=now, figures=figures
        )


def report_fields_save(*, report: CouncilReport, values: dict[str, str]) -> CouncilReport:
    """The department's own fields of a draft; a published report never changes."""
    with transaction.atomic():
        locked = CouncilReport.objects.select_for_update().get(pk=report.pk)
        if locked.is_published:
            raise ReportRefused(_("This report is published: it can no longer be changed."))
        for field in DEPARTMENT_FIELDS:
            setattr(locked, field, values.get(field, "").strip())
        locked.save(update_fields=list(DEPARTMENT_FIELDS))
        return locked


def canonical(report: CouncilReport) -> bytes:
    """The report as one canonical JSON text: what the digest covers."""
    document = {
        "period": [report.period_start.isoformat(), report.period_end.isoformat()],
        "figures": report.figures,
        "department": report.department_fields(),
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def report_digest(report: CouncilReport) -> str:
    return hashlib.sha256(canonical(report)).hexdigest()


def _statement(report: CouncilReport, schema_name: str, published_at: datetime) -> dict[str, Any]:
    audit = report.figures["audit"]
    return {
        "city": schema_name,
        "report": report.pk,
        "period": [report.period_start.isoformat(), report.period_end.isoformat()],
        "audit_entries": [audit["first_entry_id"], audit["last_entry_id"]],
        "last_entry_hash": audit["last_entry_hash"],
        "sha256": report_digest(report),
        "published_at": published_at.isoformat(),
    }


def report_publish(*, department: Department, report: CouncilReport) -> CouncilReport:
    """Freeze and sign the report; publishing it again returns it as it was published."""
    with transaction.atomic():
        locked = CouncilReport.objects.select_for_update().get(pk=report.pk)
        if locked.is_published:
            return locked
        now = timezone.now()
        statement = _statement(locked, department.schema_name, now)
        locked.digest = statement["sha256"]
        locked.statement = signing.Signer(salt=STATEMENT_SALT).sign_object(statement)
        locked.status = CouncilReport.Status.PUBLISHED
        locked.published_at = now
        locked.save(update_fields=["digest", "statement", "status", "published_at"])
        return locked


@dataclass(frozen=True)
class Verification:
    valid: bool
    # Why not, for the reader (translated); empty when valid.
    problem: str = ""
    statement: dict[str, Any] | None = None


def report_verify(
    *, department: Department, report: CouncilReport, statement: str | None = None
) -> Verification:
    """Check a published report's signed statement (or one a reader pasted): the signature,
    that it names this city and report, that the report's figures still hash to the signed
    digest, and that the last audit entry it names still carries the signed hash."""
    try:
        signed = signing.Signer(salt=STATEMENT_SALT).unsign_object(statement or report.statement)
    except signing.BadSignature:
        return Verification(
            False,
            _(
                "The signature does not match: this statement was "
                "not issued by this portal, or it was changed."
            ),
        )
    if signed.get("city") != department.schema_name or signed.get("report") != report.pk:
        return Verification(False, _("The statement is about another report."), signed)
    if signed.get("sha256") != report_digest(report):
        return Verification(
            False, _("The report's contents no longer match the signed statement."), signed
        )
    last_id = signed["audit_entries"][1]
    if last_id is not None:
        stored = AuditEntry.objects.filter(pk=last_id).values_list("hash", flat=True).first()
        if stored != signed.get("last_entry_hash"):
            return Verification(
                False,
                _("The audit trail no longer holds the entry the report was computed from."),
                signed,
            )
    return Verification(True, "", signed)
