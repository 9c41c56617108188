"""What an owner sees of the live views of their cameras (their access page, their notices):
when, how long, by which role of which department, the reason and case, and how it ended."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q
from django.utils.functional import Promise
from django.utils.translation import get_language

from portal.liveview.models import Grant
from portal.registry.models import AuditEntry, Participant, StaffMember
from tenants.models import Department, current_department

# The audit entries of live views: an owner reads them as live views (grants_of_participant),
# where a delayed notice stays hidden until its time; never raw, with the viewer's address.
LIVE_VIEW_ACTIONS = (AuditEntry.Action.LIVE_FEED, AuditEntry.Action.LIVE_FEED_END)


@dataclass(frozen=True)
class LiveView:
    """One live view of an owner's camera as the owner is told of it. Labels are read when
    shown, in the reader's language (the role, how it ended) or as the department wrote them
    (the reason)."""

    grant: Grant
    department: Department
    now: datetime

    @property
    def camera(self) -> str:
        return self.grant.camera.label

    @property
    def address(self) -> str:
        return self.grant.camera.site.address

    @property
    def opened_at(self) -> datetime:
        return self.grant.opened_at

    @property
    def seconds_watched(self) -> int:
        return self.grant.seconds_watched

    @property
    def role(self) -> str | Promise:
        role = self.grant.staff_role
        return StaffMember.Role(role).label if role in StaffMember.Role.values else role

    @property
    def department_name(self) -> str:
        return self.department.name_in(get_language())

    @property
    def reason(self) -> str:
        labels = {
            str(reason.get("code")): str(reason.get("label"))
            for reason in self.department.program.live_reasons
            if isinstance(reason, dict)
        }
        return labels.get(self.grant.reason, self.grant.reason)

    @property
    def case_number(self) -> str:
        return self.grant.case_number

    @property
    def is_open(self) -> bool:
        return self.grant.is_open(self.now)

    @property
    def ends_at(self) -> datetime:
        """When it ended, or when it will at the latest."""
        return self.grant.ended_at or self.grant.expires_at

    @property
    def ended(self) -> str | Promise:
        """Why it ended ("" while open); a grant past its expiry that no sweep has ended yet
        ended at its time limit."""
        if self.grant.ended_why:
            return Grant.Ended(self.grant.ended_why).label
        return "" if self.is_open else Grant.Ended.EXPIRED.label

    @property
    def notice_delayed_until(self) -> datetime | None:
        """The department's delay of the owner's notice, once it has passed (before, the view
        is not shown at all)."""
        grant = self.grant
        if grant.notice_delayed and grant.notice_after and grant.notice_after <= self.now:
            return grant.notice_after
        return None


def grants_of_participant(participant: Participant, *, now: datetime) -> list[LiveView]:
    """Every live view of the participant's cameras, newest first, but those whose notice the
    department still delays (shown once `notice_after` has passed, with the delay stated)."""
    department = current_department()
    grants = (
        Grant.objects.filter(camera__site__participant=participant)
        .filter(Q(notice_after__isnull=True) | Q(notice_after__lte=now))
        .select_related("camera__site")
        .order_by("-opened_at", "-pk")
    )
    return [LiveView(grant, department, now) for grant in grants]
