"""The writes of oversight: flag an audit entry, record a finding, resolve it. Each is one
transaction that writes its own audit entry (ids and severity only: no one's words, no
resident's data)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portal.oversight.models import Finding, Flag
from portal.registry.audit import Actor, audit_record
from portal.registry.models import AuditEntry, Capability, StaffMember


class OversightRefused(Exception):
    """An oversight write that may not be made, with the message to show and the status."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


NO_SUCH_ENTRY = gettext_lazy("There is no audit entry %(id)s in this department's audit trail.")


def may_resolve(staff: StaffMember) -> bool:
    """The department answers for itself: its administrators resolve findings, never an
    oversight account and never a vendor support identity acting in the city."""
    return staff.can(Capability.ADMINISTER) and not staff.is_support


def _entry(entry_id: int) -> AuditEntry:
    # Entries are per city (one schema each): an id from another city's trail is not found here.
    entry = AuditEntry.objects.filter(pk=entry_id).first()
    if entry is None:
        raise OversightRefused(str(NO_SUCH_ENTRY % {"id": entry_id}), status=404)
    return entry


def _overseer(actor: Actor) -> StaffMember:
    staff = actor.as_staff()
    if not staff.can(Capability.OVERSEE):
        raise OversightRefused(
            _(
                "Only oversight accounts (council members and auditors) flag entries and "
                "record findings."
            ),
            status=403,
        )
    return staff


@transaction.atomic
def entry_flag(*, actor: Actor, entry_id: int, note: str = "") -> Flag:
    """Mark an audit entry of this city for review."""
    staff = _overseer(actor)
    entry = _entry(entry_id)
    flag = Flag.objects.create(entry_id=entry.pk, flagged_by=staff, note=note.strip()[:500])
    audit_record(
        actor=actor,
        action=AuditEntry.Action.OVERSIGHT_FLAG,
        reason=f"Audit entry {entry.pk} flagged for review (flag {flag.pk})",
    )
    return flag


@transaction.atomic
def finding_record(
    *, actor: Actor, entry_id: int, text: str, severity: str, flag_id: int | None = None
) -> Finding:
    """Record a finding about an entry of this city, from one of its flags or directly."""
    staff = _overseer(actor)
    entry = _entry(entry_id)
    text = text.strip()
    if not text:
        raise OversightRefused(_("Write the finding: what was found about this entry."))
    if severity not in Finding.Severity.values:
        raise OversightRefused(_("Choose the finding's severity."))
    flag = None
    if flag_id is not None:
        flag = Flag.objects.filter(pk=flag_id, entry_id=entry.pk).first()
        if flag is None:
            raise OversightRefused(_("That flag is not on this entry."))
    finding = Finding.objects.create(
        entry_id=entry.pk, flag=flag, text=text, severity=severity, recorded_by=staff
    )
    audit_record(
        actor=actor,
        action=AuditEntry.Action.OVERSIGHT_FINDING,
        reason=(
            f"Finding {finding.pk} ({severity}) recorded on audit entry {entry.pk}"
            + (f" from flag {flag.pk}" if flag is not None else "")
        ),
    )
    return finding


@transaction.atomic
def finding_resolve(*, actor: Actor, finding_id: int, resolution: str) -> Finding:
    """An administrator's answer to a finding, which closes it."""
    staff = actor.as_staff()
    if not may_resolve(staff):
        raise OversightRefused(
            _("Only the department's administrators answer and resolve findings."), status=403
        )
    finding = Finding.objects.select_for_update().filter(pk=finding_id).first()
    if finding is None:
        raise OversightRefused(
            _("There is no finding %(id)s in this department.") % {"id": finding_id}, status=404
        )
    resolution = resolution.strip()
    if not resolution or "\x00" in resolution:
        raise OversightRefused(_("Write the department's answer to the finding."))
    if finding.is_resolved:
        raise OversightRefused(_("This finding was already resolved."), status=409)
    finding.resolution = resolution
    finding.resolved_by = staff
    finding.resolved_at = timezone.now()
    finding.save(update_fields=["resolution", "resolved_by", "resolved_at"])
    audit_record(
        actor=actor,
        action=AuditEntry.Action.OVERSIGHT_RESOLUTION,
        reason=f"Finding {finding.pk} on audit entry {finding.entry_id} resolved",
    )
    return finding
