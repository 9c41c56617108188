"""The reads of oversight: the audit trail as a council member or auditor may read it (ids,
case numbers, reasons and a coarse area, never a resident's name, contact or exact address),
the flags and findings, and the monthly counts the transparency page publishes."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from django.contrib.auth import get_user_model
from django.db.models import Count, QuerySet
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from portal.oversight.models import Finding, Flag
from portal.registry.models import AuditEntry, Camera, Participant, Site, StaffMember
from tenants.models import Program
from tenants.units import METRES_PER_MILE, METRIC, format_distance

REMOVED = "[…]"
# Any email address; a department's own staff addresses are kept (they say who acted).
_EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")
# "camera 12 (Front porch)": the label is the owner's own words, and may name them or the place.
_CAMERA_LABEL = re.compile(r"\b(camera \d+) \(.*?\)(?= opened| ended)", re.IGNORECASE)
# Coordinates written with more than two decimals (a map's box): kept to about a kilometre.
_COORDINATE = re.compile(r"-?\d{1,3}\.\d{3,}")
_DIGIT_RUN = re.compile(r"\d[\d\s().+/-]*\d")
_PHONE_TAIL = 7
# The compass sector of a site from the service area's centre (the coarse area shown).
_SECTORS = ("N", "NE", "E", "SE", "S", "SW", "W", "NW")
METRES_PER_DEGREE = 111_320


@dataclass(frozen=True)
class TrailRow:
    """One audit entry as an oversight account reads it: every value ready to print."""

    pk: int
    at: datetime
    actor: str
    actor_role: str
    action: str
    site_id: int | None
    area: str
    incident_id: int | None
    case_number: str
    category: str
    note: str
    reason: str
    ip_address: str
    flags: int
    findings: int


def trail(
    *, action: str = "", case_number: str = "", site_id: int | None = None
) -> QuerySet[AuditEntry]:
    """The whole audit trail, newest first, filtered; `trail_rows` turns a page of it into
    what may be shown."""
    entries = AuditEntry.objects.all()
    if action:
        entries = entries.filter(action=action)
    if case_number:
        entries = entries.filter(case_number__iexact=case_number.strip())
    if site_id is not None:
        entries = entries.filter(site_id=site_id)
    return entries.order_by("-at", "-pk")


def _area(site: Site | None, program: Program) -> str:
    """About how far and which way from the service area's center, to the kilometer or mile."""
    if site is None:
        return ""
    north = (site.latitude - program.center_latitude) * METRES_PER_DEGREE
    east = (
        (site.longitude - program.center_longitude)
        * METRES_PER_DEGREE
        * math.cos(math.radians(program.center_latitude))
    )
    # To the kilometer or the mile: an area, never a place.
    units = program.distance_units
    step = 1000 if units == METRIC else METRES_PER_MILE
    steps = round(math.hypot(north, east) / step)
    if steps == 0:
        return _("within %(distance)s of the center") % {"distance": format_distance(step, units)}
    sector = _SECTORS[round(math.degrees(math.atan2(east, north)) / 45) % 8]
    labels = {
        "N": pgettext("oversight", "north"),
        "NE": pgettext("oversight", "north-east"),
        "E": pgettext("oversight", "east"),
        "SE": pgettext("oversight", "south-east"),
        "S": pgettext("oversight", "south"),
        "SW": pgettext("oversight", "south-west"),
        "W": pgettext("oversight", "west"),
        "NW": pgettext("oversight", "north-west"),
    }
    return _("about %(distance)s %(direction)s of the center") % {
        "distance": format_distance(steps * step, units),
        "direction": labels[sector],
    }


def _address_parts(address: str) -> list[str]:
    """An address, its first line (number and street) and that street without its number: a
    note may name any of them."""
    street = address.split(",")[0].strip()
    return [address, street, re.sub(r"^\d+[\w-]*\s+", "", street)]


class Redactor:
    """Takes residents' data out of the free text of audit entries (reasons and notes): the
    names, contacts, addresses and camera labels of the sites and participants the entries
    refer to, any email that is not a staff member's, camera labels in live-view reasons and
    precise coordinates. Entries are meant to hold none; this is the guarantee that an older
    or unforeseen one does not show any to oversight."""

    def __init__(self, entries: Iterable[AuditEntry]) -> None:
        entries = list(entries)
        site_ids = {entry.site_id for entry in entries if entry.site_id}
        participant_ids = {entry.participant_id for entry in entries if entry.participant_id}
        self.sites = {
            site.pk: site for site in Site.objects.filter(pk__in=site_ids).select_related(None)
        }
        participant_ids |= {site.participant_id for site in self.sites.values()}
        self.staff_emails = {
            email.casefold()
            for email in get_user_model()
            .objects.filter(staff__isnull=False)
            .values_list("email", flat=True)
        }
        self.words: dict[int, list[str]] = {}
        self.phones: dict[int, list[str]] = {}
        for site in self.sites.values():
            self._add(site.participant_id, [site.contact_name, site.contact_email])
            self._add(site.participant_id, _address_parts(site.address))
            self._add(site.participant_id, _address_parts(site.yard_sign_address))
            self.phones.setdefault(site.participant_id, []).append(
                re.sub(r"\D", "", site.contact_phone)[-_PHONE_TAIL:]
            )
        for camera in Camera.objects.filter(site_id__in=self.sites).only("label", "site_id"):
            self._add(self.sites[camera.site_id].participant_id, [camera.label])
        for participant in Participant.objects.filter(pk__in=participant_ids).select_related(
            "user"
        ):
            self._add(participant.pk, [participant.organisation_name, participant.user.email])

    def _add(self, participant_id: int, words: list[str]) -> None:
        self.words.setdefault(participant_id, []).extend(
            word.strip() for word in words if len(word.strip()) >= 3
        )

    def participants_of(self, entry: AuditEntry) -> set[int]:
        ids = {entry.participant_id} if entry.participant_id else set()
        site = self.sites.get(entry.site_id or 0)
        if site is not None:
            ids.add(site.participant_id)
        return ids

    def _email(self, match: re.Match[str]) -> str:
        return match.group() if match.group().casefold() in self.staff_emails else REMOVED

    def text(self, text: str, entry: AuditEntry) -> str:
        for participant_id in self.participants_of(entry):
            for word in sorted(self.words.get(participant_id, []), key=len, reverse=True):
                text = re.sub(re.escape(word), REMOVED, text, flags=re.IGNORECASE)
            phones = [phone for phone in self.phones.get(participant_id, []) if len(phone) >= 4]

            def digits(run: re.Match[str], phones: list[str] = phones) -> str:
                number = re.sub(r"\D", "", run.group())
                return REMOVED if any(phone in number for phone in phones) else run.group()

            text = _DIGIT_RUN.sub(digits, text)
        text = _CAMERA_LABEL.sub(r"\1", text)
        text = _EMAIL.sub(self._email, text)
        return _COORDINATE.sub(lambda match: f"{float(match.group()):.2f}", text)


def trail_rows(entries: Iterable[AuditEntry], program: Program) -> list[TrailRow]:
    """A page of the trail as oversight reads it (see Redactor)."""
    entries = list(entries)
    redactor = Redactor(entries)
    ids = [entry.pk for entry in entries]
    flags = dict(
        Flag.objects.filter(entry_id__in=ids)
        .values("entry_id")
        .annotate(n=Count("pk"))
        .values_list("entry_id", "n")
    )
    findings = dict(
        Finding.objects.filter(entry_id__in=ids)
        .values("entry_id")
        .annotate(n=Count("pk"))
        .values_list("entry_id", "n")
    )
    actions = dict(AuditEntry.Action.choices)
    roles = dict(StaffMember.Role.choices)
    rows = []
    for entry in entries:
        # Staff, vendor staff and jobs act in the trail; an owner never appears by address.
        resident = entry.actor_role == "participant"
        rows.append(
            TrailRow(
                pk=entry.pk,
                at=entry.at,
                actor=_("a resident") if resident else redactor.text(entry.actor_email, entry),
                actor_role="" if resident else str(roles.get(entry.actor_role, entry.actor_role)),
                action=str(actions.get(entry.action, entry.action)),
                site_id=entry.site_id,
                area=_area(redactor.sites.get(entry.site_id or 0), program),
                incident_id=entry.incident_id,
                case_number=entry.case_number,
                category=program.offence_label(entry.category) if entry.category else "",
                note=redactor.text(entry.note, entry),
                reason=redactor.text(entry.reason, entry),
                ip_address="" if resident else (entry.ip_address or ""),
                flags=flags.get(entry.pk, 0),
                findings=findings.get(entry.pk, 0),
            )
        )
    return rows


def flags_of(entry: AuditEntry) -> QuerySet[Flag]:
    return Flag.objects.filter(entry_id=entry.pk).select_related("flagged_by__user")


def findings(*, open_only: bool = False) -> QuerySet[Finding]:
    found = Finding.objects.select_related("recorded_by__user", "resolved_by__user")
    return found.open() if open_only else found


@dataclass(frozen=True)
class MonthFindings:
    """Findings recorded, and findings resolved, in one month (the month's first day)."""

    month: date
    recorded: int
    resolved: int


def _months(start: date, end: date) -> list[date]:
    months = []
    month = date(start.year, start.month, 1)
    while month <= end:
        months.append(month)
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return months


def findings_by_month(start: date, end: date) -> list[MonthFindings]:
    """For each month from `start`'s to `end`'s (both included, in the current city's time
    zone), how many findings were recorded and how many resolved: months without any give
    zeros; an `end` before `start` gives an empty list. The current schema's city only."""
    months = _months(start, end)
    if not months:
        return []
    tz = timezone.get_current_timezone()
    since = timezone.make_aware(datetime.combine(months[0], datetime.min.time()), tz)
    last = months[-1]
    until = timezone.make_aware(
        datetime.combine(
            date(last.year + last.month // 12, last.month % 12 + 1, 1), datetime.min.time()
        ),
        tz,
    )

    def per_month(field: str) -> dict[date, int]:
        counted = (
            Finding.objects.filter(**{f"{field}__gte": since, f"{field}__lt": until})
            .annotate(month=TruncMonth(field, tzinfo=tz))
            .values("month")
            .annotate(n=Count("pk"))
            .values_list("month", "n")
        )
        return {timezone.localtime(month, tz).date(): n for month, n in counted}

    recorded, resolved = per_month("recorded_at"), per_month("resolved_at")
    return [
        MonthFindings(month, recorded.get(month, 0), resolved.get(month, 0)) for month in months
    ]


def findings_recorded_between(start: datetime, end: datetime) -> int:
    """Findings recorded in [start, end), for the transparency page's provider."""
    return Finding.objects.filter(recorded_at__gte=start, recorded_at__lt=end).count()


def findings_resolved_between(start: datetime, end: datetime) -> int:
    """Findings resolved in [start, end), for the transparency page's provider."""
    return Finding.objects.filter(resolved_at__gte=start, resolved_at__lt=end).count()
