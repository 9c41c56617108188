"""The department console's live view: the cameras staff may open now, opening one with a
reason, the viewer, renewing and closing. Only staff with the live-view capability."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from urllib.parse import urlsplit

from csp.decorators import csp_update
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from portal.department.models import Incident
from portal.department.views import StaffRequest, staff_required
from portal.guardrails import services as guardrail_services
from portal.guardrails.rules import ApprovalNeeded
from portal.liveview import media, selectors, services
from portal.liveview.forms import GrantForm, GrantOpenForm
from portal.liveview.models import Grant
from portal.liveview.relay import relay_url
from portal.liveview.services import GrantRefused
from portal.registry.audit import Actor, audit_record_sites
from portal.registry.models import AuditEntry, Camera, Capability
from tenants.http import client_ip

LIVE_VIEW = Capability.LIVE_VIEW


def _actor(request: StaffRequest) -> Actor:
    return Actor.of_staff(request.staff, client_ip(request))


def _incident(request: StaffRequest) -> Incident | None:
    value = request.GET.get("incident", "")
    if not value.isdigit() or len(value) > 18:
        return None
    return Incident.objects.filter(pk=int(value)).first()


def _cameras_near(incident: Incident | None) -> list[selectors.LiveCamera]:
    """The cameras staff may open now: within an incident's searched radius when from one."""
    if incident is None:
        return selectors.live_cameras()
    return selectors.live_cameras(
        latitude=incident.latitude,
        longitude=incident.longitude,
        radius_m=incident.search_radius_m,
    )


@require_safe
@staff_required(LIVE_VIEW)
def live_cameras(request: StaffRequest) -> HttpResponse:
    """The cameras staff may open now; from an incident, those within its search radius,
    nearest first."""
    incident = _incident(request)
    cameras = _cameras_near(incident)
    return render(
        request,
        "liveview/cameras.html",
        {
            "cameras": cameras,
            "incident": incident,
            "open_grants": selectors.grants_open_for(request.staff),
        },
    )


@require_safe
@staff_required(LIVE_VIEW)
def live_cameras_data(request: StaffRequest) -> JsonResponse:
    """The same cameras for the map (the registry map, an incident's map): each at its site's
    exact place, so the handing out is recorded like any close-up of the map (MAP_VIEW, one
    entry per site, with the incident's case when asked from one)."""
    incident = _incident(request)
    cameras = _cameras_near(incident)
    sites = {live.site.pk: live.site for live in cameras}
    if sites:  # no camera, no place handed out: nothing to record
        audit_record_sites(
            actor=_actor(request),
            action=AuditEntry.Action.MAP_VIEW,
            reason=f"Exact places of {len(cameras)} live cameras shown on the map",
            case=incident,
            sites=sites.values(),
        )
    return JsonResponse(
        {
            "cameras": [
                {
                    "label": live.camera.label,
                    "latitude": live.site.latitude,
                    "longitude": live.site.longitude,
                    "emergency_only": live.emergency_only,
                    "open_url": reverse("department:live_open", args=[live.camera.pk])
                    + (f"?incident={incident.pk}" if incident is not None else ""),
                }
                for live in cameras
            ]
        }
    )


def _reasons(request: StaffRequest) -> list[services.LiveReason]:
    return services.live_reasons(request.tenant.program)


@require_http_methods(["GET", "HEAD", "POST"])
@staff_required(LIVE_VIEW)
def grant_open(request: StaffRequest, camera_id: int) -> HttpResponse:
    camera = get_object_or_404(Camera.objects.select_related("site"), pk=camera_id)
    reasons = _reasons(request)
    initial = {}
    incident = _incident(request)
    if incident is not None:
        initial["case_number"] = incident.case_number
    form = GrantOpenForm(request.POST or None, reasons=reasons, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            grant = services.grant_open(
                actor=_actor(request),
                camera=camera,
                reason=form.cleaned_data["reason"],
                case_number=form.cleaned_data["case_number"],
                note=form.cleaned_data["note"],
                notice_delay_hours=form.cleaned_data["notice_delay_hours"] or 0,
                minutes=form.cleaned_data["minutes"],
            )
        except GrantRefused as refused:
            form.add_error(None, refused.message)
        except ApprovalNeeded as needed:
            approval = guardrail_services.approval_request_live(
                actor=_actor(request),
                camera=camera,
                reason=form.cleaned_data["reason"],
                case_number=form.cleaned_data["case_number"],
                note=form.cleaned_data["note"],
                minutes=form.cleaned_data["minutes"],
                needed=needed,
            )
            return render(
                request,
                "guardrails/held.html",
                {
                    "approval": approval,
                    "needed": needed,
                    "back": reverse("department:live_cameras"),
                },
                status=202,
            )
        else:
            return redirect("department:live_grant", grant_id=grant.pk)
    return render(
        request,
        "liveview/open.html",
        {
            "camera": camera,
            "form": form,
            "emergencies": any(reason.emergency for reason in reasons),
        },
    )


def _own_grant(request: StaffRequest, grant_id: int) -> Grant:
    """One of the staff member's own grants (anyone else's is not found)."""
    grant = (
        Grant.objects.select_related("camera__site")
        .filter(pk=grant_id, staff=request.staff)
        .first()
    )
    if grant is None:
        raise Http404
    return grant


@require_safe
@staff_required(LIVE_VIEW)
def grant_viewer(request: StaffRequest, grant_id: int) -> HttpResponseBase:
    grant = services.grant_refresh(grant=_own_grant(request, grant_id))
    relay = relay_url(request.get_host().rsplit(":", 1)[0])
    is_open = grant.is_open()
    context = {
        "grant": grant,
        "is_open": is_open,
        "ended_label": _ended(grant)[1],
        "seconds_left": _seconds_left(grant),
        "reason_label": _reason_label(request, grant.reason),
        "relay_url": relay,
        "media_token": media.media_token(grant) if is_open and relay else "",
        "renew_form": GrantForm(
            reasons=_reasons(request),
            initial={"reason": grant.reason, "case_number": grant.case_number},
        ),
    }
    respond: Callable[[HttpRequest], HttpResponseBase] = partial(
        render, template_name="liveview/viewer.html", context=context
    )
    if relay:
        # The viewer's WHEP offer goes to the relay: this page alone may connect there (the
        # origin depends on the city's host, so the decorator is applied here, per request).
        parts = urlsplit(relay)
        respond = csp_update({"connect-src": [f"{parts.scheme}://{parts.netloc}"]})(respond)
    return respond(request)


def _seconds_left(grant: Grant) -> int:
    if not grant.is_open():
        return 0
    return max(0, int((grant.expires_at - timezone.now()).total_seconds()))


def _reason_label(request: StaffRequest, code: str) -> str:
    for reason in _reasons(request):
        if reason.code == code:
            return reason.label
    return code


@require_safe
@staff_required(LIVE_VIEW)
def grant_status(request: StaffRequest, grant_id: int) -> JsonResponse:
    """What the viewer's script asks every second: still open, how long left, why it ended."""
    grant = services.grant_refresh(grant=_own_grant(request, grant_id))
    why, label = _ended(grant)
    return JsonResponse(
        {
            "open": grant.is_open(),
            "seconds_left": _seconds_left(grant),
            "ended_why": why,
            "ended": label,
        }
    )


def _ended(grant: Grant) -> tuple[str, str]:
    """Why a grant ended and its label in the user's language ("" while open); one past its
    expiry that no sweep has ended yet ended at its expiry."""
    if grant.is_open():
        return "", ""
    why = grant.ended_why or Grant.Ended.EXPIRED
    return why, str(Grant.Ended(why).label)


@require_POST
@staff_required(LIVE_VIEW)
def grant_renew(request: StaffRequest, grant_id: int) -> HttpResponse:
    grant = _own_grant(request, grant_id)
    form = GrantForm(request.POST, reasons=_reasons(request))
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect("department:live_grant", grant_id=grant.pk)
    try:
        renewed = services.grant_renew(
            actor=_actor(request),
            grant=grant,
            reason=form.cleaned_data["reason"],
            case_number=form.cleaned_data["case_number"],
            note=form.cleaned_data["note"],
        )
    except GrantRefused as refused:
        messages.error(request, refused.message)
        return redirect("department:live_grant", grant_id=grant.pk)
    return redirect("department:live_grant", grant_id=renewed.pk)


@require_POST
@staff_required(LIVE_VIEW)
def grant_close(request: StaffRequest, grant_id: int) -> HttpResponse:
    grant = _own_grant(request, grant_id)
    services.grant_close(actor=_actor(request), grant=grant)
    messages.success(request, _("The live view is closed."))
    return redirect("department:live_cameras")
