"""Who acts (the `Actor` every service takes) and the one place audit entries are written."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from portal.registry.models import AuditEntry, Participant, Site, StaffMember


class Case(Protocol):
    """What the audit trail keeps of an incident (a higher layer's model): its id and number."""

    pk: int
    case_number: str


@dataclass(frozen=True)
class Actor:
    """The person a service acts for, and the address they act from. Views build one from the
    request; commands and jobs build one for themselves. Services never see an HttpRequest."""

    email: str
    role: str
    ip_address: str | None = None
    staff: StaffMember | None = None
    participant: Participant | None = None

    @classmethod
    def of_staff(cls, staff: StaffMember, ip_address: str | None) -> Actor:
        return cls(staff.user.email, staff.role, ip_address, staff=staff)

    @classmethod
    def of_participant(cls, participant: Participant, ip_address: str | None) -> Actor:
        return cls(participant.user.email, "participant", ip_address, participant=participant)

    @classmethod
    def system(cls, name: str) -> Actor:
        """A scheduled job or a command run by the operator (`name` says which)."""
        return cls(f"{name}@system.invalid", "system")

    @property
    def user_id(self) -> int | None:
        if self.staff is not None:
            return self.staff.user_id
        if self.participant is not None:
            return self.participant.user_id
        return None


def audit_record(
    *,
    actor: Actor,
    action: str,
    reason: str,
    site: Site | None = None,
    case: Case | None = None,
) -> AuditEntry:
    """Write one append-only audit entry for the actor's action."""
    return AuditEntry.objects.create(**_common(actor, action, reason, case), **_about(site))


def audit_record_sites(
    *, actor: Actor, action: str, reason: str, case: Case | None, sites: Iterable[Site]
) -> None:
    """One entry per site for an action that hands out many sites at once (an export), so that
    each owner finds it among the entries about them; one entry without a site when none."""
    common = _common(actor, action, reason, case)
    entries = [AuditEntry(**common, **_about(site)) for site in sites]
    AuditEntry.objects.bulk_create(entries or [AuditEntry(**common)])


def _common(actor: Actor, action: str, reason: str, case: Case | None) -> dict[str, object]:
    return {
        "actor_email": actor.email,
        "actor_role": actor.role,
        "action": action,
        "incident_id": case.pk if case else None,
        "case_number": case.case_number if case else "",
        "reason": reason[:500],
        "ip_address": actor.ip_address,
    }


def _about(site: Site | None) -> dict[str, int | None]:
    return {
        "site_id": site.pk if site else None,
        "participant_id": site.participant_id if site else None,
    }
