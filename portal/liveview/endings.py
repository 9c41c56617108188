"""How grants end when something outside live view changes: the viewer signs out (or their
session runs out), loses the capability or is deactivated, the site's subscription ends, or the
owner opts out or lapses. Each is a signal from a lower layer or from Django, connected in
LiveViewConfig.ready; each ends grants through services.grants_end, the one way they end."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django_tenants.utils import get_public_schema_name

from portal.liveview.models import Grant, Sharing
from portal.liveview.services import grants_end
from portal.registry.audit import Actor
from portal.registry.models import Participant, Site, StaffMember
from portal.registry.signals import StaffAccess
from tenants.db import tenant_connection
from tenants.sessions import users_signed_in

_STAFF_ENDINGS = {
    StaffAccess.DEACTIVATED: Grant.Ended.DEACTIVATED,
    StaffAccess.SIGNED_OUT: Grant.Ended.SIGNED_OUT,
}


def staff_access_changed(
    sender: Any, member: StaffMember, why: str, actor: Actor | None = None, **kwargs: Any
) -> int:
    """registry.signals.staff_access_changed: a new role without the live-view capability, a
    deactivated account or a session that ran out ends the member's open grants."""
    if why == StaffAccess.ROLE_CHANGED:
        if member.can_watch_live:
            return 0
        ended_why = Grant.Ended.CAPABILITY_LOST
    else:
        ended_why = _STAFF_ENDINGS[why]
    return grants_end(grants=Grant.objects.filter(staff=member), why=ended_why, actor=actor)


def signed_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> int:
    """django.contrib.auth's user_logged_out: a staff member signing out ends their grants."""
    if user is None or tenant_connection.schema_name == get_public_schema_name():
        return 0  # vendor staff on the platform site hold no grants
    member = StaffMember.objects.filter(user_id=user.pk).first()
    if member is None:
        return 0
    return grants_end(grants=Grant.objects.filter(staff=member), why=Grant.Ended.SIGNED_OUT)


@transaction.atomic
def site_integration_changed(sender: Any, site: Site, integrated: bool, **kwargs: Any) -> int:
    """registry.signals.site_integration_changed: a site returned to registered (its
    subscription ended, or its owner opted out) shares nothing any more: its cameras' sharing
    turns off and their open grants end."""
    if integrated:
        return 0
    ended = grants_end(grants=Grant.objects.filter(camera__site=site), why=Grant.Ended.LAPSED)
    Sharing.objects.filter(camera__site=site).exclude(mode=Sharing.Mode.OFF).update(
        mode=Sharing.Mode.OFF, updated_at=timezone.now()
    )
    return ended


def participant_leaving(sender: Any, participant: Participant, **kwargs: Any) -> int:
    """registry.signals.participant_opting_out and participant_lapsing: the open grants on
    the owner's cameras end (before an opt-out or a purge deletes the cameras, so that each
    grant's end is recorded)."""
    return grants_end(
        grants=Grant.objects.filter(camera__site__participant=participant),
        why=Grant.Ended.LAPSED,
    )


def department_suspended(sender: Any, department: Any, **kwargs: Any) -> int:
    """tenants.lifecycle.department_suspended: the city's portal closes, and every open grant
    in it ends (the lean media authorisation would otherwise trust its cached city for a few
    seconds more)."""
    return grants_end(grants=Grant.objects.all(), why=Grant.Ended.SUSPENDED)


def grants_of_signed_out_end() -> int:
    """End the open grants of staff with no session left in this city: their sessions ran
    out (the idle limit) and no request came to notice it."""
    open_grants = Grant.objects.filter(ended_at__isnull=True)
    viewers = set(open_grants.values_list("staff__user_id", flat=True))
    if not viewers:
        return 0
    gone = viewers - users_signed_in(viewers)
    if not gone:
        return 0
    return grants_end(
        grants=open_grants.filter(staff__user_id__in=gone), why=Grant.Ended.SIGNED_OUT
    )
