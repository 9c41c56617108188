"""Who acts (the `Actor` every service takes) and the one place audit entries are written, with
their structured reason: the case's offence type and number, and an optional note."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from portal.registry.models import AuditEntry, Participant, Site, StaffMember
from tenants.units import format_distance


class Case(Protocol):
    """What the audit trail keeps of an incident (a higher layer's model): its id, its number
    and its offence type (a code from the department's Program.offence_types). A reason given
    without an incident (a live view's) has no id."""

    @property
    def pk(self) -> int | None: ...

    @property
    def case_number(self) -> str: ...

    @property
    def category(self) -> str: ...


class SiteKeys(Protocol):
    """What an entry keeps of a site: its id and its owner's (a Site, or a lighter row of one
    such as a canvass line)."""

    @property
    def pk(self) -> int: ...

    @property
    def participant_id(self) -> int: ...


class NoteNamesOwner(ValueError):
    """A note would put the owner's name, phone or email into the audit trail."""


# A phone number as people type it: digits with spaces, dots, dashes, slashes, brackets or +.
_DIGIT_RUN = re.compile(r"\d[\d\s().+/-]*\d|\d")
# The subscriber part of a number (the last seven digits) is what identifies it, with or
# without the area and country codes.
_PHONE_TAIL = 7


def note_names_owner(note: str, site: Site) -> bool:
    """Whether a note carries the site owner's contact name (as a whole word or words, any case
    and spacing), phone number (compared by digits, whatever the formatting) or email (any
    case). Notes are read by the owner and by auditors; they must never hold personal data."""
    text = " ".join(note.split()).casefold()
    if not text:
        return False
    name = " ".join(site.contact_name.split()).casefold()
    if name and re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text):
        return True
    email = site.contact_email.strip().casefold()
    if email and email in text:
        return True
    phone = re.sub(r"\D", "", site.contact_phone)[-_PHONE_TAIL:]
    return len(phone) >= 4 and any(
        phone in re.sub(r"\D", "", run) for run in _DIGIT_RUN.findall(text)
    )


@dataclass(frozen=True)
class Actor:
    """The person a service acts for, and the address they act from. Views build one from the
    request; commands and jobs build one for themselves. Services never see an HttpRequest."""

    email: str
    role: str
    ip_address: str | None = None
    staff: StaffMember | None = None
    participant: Participant | None = None
    # The vendor support session a support identity acts in (portal.registry.support).
    support_session_id: int | None = None

    @classmethod
    def of_staff(cls, staff: StaffMember, ip_address: str | None) -> Actor:
        access = staff.support_access if staff.is_support else None
        return cls(
            staff.user.email,
            staff.role,
            ip_address,
            staff=staff,
            support_session_id=access.session_id if access is not None else None,
        )

    @classmethod
    def of_participant(cls, participant: Participant, ip_address: str | None) -> Actor:
        return cls(participant.user.email, "participant", ip_address, participant=participant)

    @classmethod
    def system(cls, name: str) -> Actor:
        """A scheduled job or a command run by the operator (`name` says which)."""
        return cls(f"{name}@system.invalid", "system")

    def as_staff(self) -> StaffMember:
        """The staff member acting, for services only staff may call (anyone else is refused)."""
        if self.staff is None:
            raise PermissionDenied
        return self.staff

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
    note: str = "",
    participant: Participant | None = None,
) -> AuditEntry:
    """Write one append-only audit entry for the actor's action. `reason` says what was done
    (written by the service); the case gives the offence type and case number; `note` is the
    staff member's own words, refused (NoteNamesOwner) when it names the site's owner. An entry
    about an owner without one of their sites (their own data download) names `participant`."""
    note = note.strip()
    if site is not None and note_names_owner(note, site):
        raise NoteNamesOwner
    about = _about(site)
    if site is None and participant is not None:
        about["participant_id"] = participant.pk
    return AuditEntry.objects.create(
        **_common(actor, action, reason, case), note=note[:500], **about
    )


def audit_record_sites(
    *, actor: Actor, action: str, reason: str, case: Case | None, sites: Iterable[SiteKeys]
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
        "category": case.category if case else "",
        "reason": reason[:500],
        "ip_address": actor.ip_address,
        "support_session_id": actor.support_session_id,
    }


def _about(site: SiteKeys | None) -> dict[str, int | None]:
    return {
        "site_id": site.pk if site else None,
        "participant_id": site.participant_id if site else None,
    }


# The radius an area notice's entry records ("Check-your-camera notice, 500 m").
_NOTICE_RADIUS = re.compile(r"notice, (\d+) m\b")


def reason_for_owner(entry: AuditEntry, units: str) -> str:
    """What an entry about an owner's data means, in the owner's language: the stored reason is
    the department's record, written in English for its audit trail; the owner reads a
    translated sentence from the entry's action and facts instead (their access page). Empty
    where the action's own label says everything."""
    Action = AuditEntry.Action
    if entry.action == Action.REVEAL:
        return _("A staff member saw your contact details to reach you about the case.")
    if entry.action == Action.NOTIFY:
        radius = _NOTICE_RADIUS.search(entry.reason)
        if radius is None:
            return _("A “check your camera” notice to the owners near an incident.")
        return _(
            "A “check your camera” notice to the owners within %(distance)s of an incident."
        ) % {"distance": format_distance(int(radius.group(1)), units)}
    if entry.action == Action.FOOTAGE_REQUEST:
        return _("A request to you for a copy of your footage.")
    if entry.action in (Action.DOWNLOAD, Action.DOWNLOAD_FAILED):
        return _("The footage you sent, downloaded for the case.")
    if entry.action == Action.CANVASS_VIEW:
        return _("Your site's address, listed among the sites near an incident.")
    if entry.action == Action.MAP_VIEW:
        return _("Your site's exact place, shown on the department's map.")
    if entry.action in (Action.IMPORT, Action.IMPORT_PREVIEW):
        return _("Your site, in a registry file the department imported.")
    if entry.action == Action.SUBSCRIPTIONS_VIEW:
        return _("Your site's address, listed among the device subscriptions.")
    if entry.action == Action.EXPORT:
        if entry.incident_id is not None:
            return _("The list of sites near an incident, yours among them, exported for the case.")
        if entry.reason.startswith("Audit trail"):
            return _("The audit trail exported (it names no owner's contact details).")
        return _("The registry's locations and cameras exported, without contact details.")
    return ""
