"""The owner's device pages on their city's portal: a claim code to pair a new device, the
site's devices with their channels mapped to the site's cameras, and removing a device. They
translate HTTP to portal.liveview.devices."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from portal.liveview import devices as device_services
from portal.liveview.devices import DeviceChangeRefused
from portal.liveview.models import Channel, Device
from portal.registry.audit import Actor
from portal.registry.models import Camera, Site
from portal.residents.views import ParticipantRequest, participant_required
from tenants.http import client_ip

# The claim code just issued, kept in the session for the one page that shows it.
CLAIM_CODE_KEY = "liveview_claim_code"


def _actor(request: ParticipantRequest) -> Actor:
    return Actor.of_participant(request.participant, client_ip(request))


def _own_site(request: ParticipantRequest, site_id: int) -> Site:
    return get_object_or_404(Site, pk=site_id, participant=request.participant)


@require_safe
@participant_required
def devices(request: ParticipantRequest, site_id: int) -> HttpResponse:
    site = _own_site(request, site_id)
    shown = request.session.pop(CLAIM_CODE_KEY, None)
    claim_code = shown if isinstance(shown, dict) and shown.get("site") == site.pk else None
    return render(
        request,
        "liveview/devices.html",
        {
            "site": site,
            "integrated": site.participation == Site.Participation.INTEGRATED,
            "rows": device_services.site_devices(site),
            "cameras": list(site.cameras.all()),
            "claim_code": claim_code,
        },
    )


@require_POST
@participant_required
def claim_code_new(request: ParticipantRequest, site_id: int) -> HttpResponse:
    site = _own_site(request, site_id)
    try:
        code = device_services.claim_code_issue(actor=_actor(request), site=site)
    except DeviceChangeRefused as refusal:
        messages.error(request, refusal.message)
    else:
        request.session[CLAIM_CODE_KEY] = {
            "site": site.pk,
            "code": code,
            "days": device_services.CODE_LIFETIME.days,
        }
    return redirect("devices:site_devices", site_id=site.pk)


@require_POST
@participant_required
def channel_camera(request: ParticipantRequest, channel_id: int) -> HttpResponse:
    channel = get_object_or_404(
        Channel.objects.select_related("device__site"),
        pk=channel_id,
        device__site__participant=request.participant,
    )
    site_id = channel.device.site_id
    chosen = request.POST.get("camera", "")
    camera: Camera | None = None
    if chosen:
        camera = (
            Camera.objects.filter(pk=int(chosen)).first()
            if chosen.isascii() and chosen.isdigit() and len(chosen) < 12
            else None
        )
        if camera is None:
            messages.error(request, _("Choose one of the site's cameras."))
            return redirect("devices:site_devices", site_id=site_id)
    try:
        device_services.channel_map(actor=_actor(request), channel=channel, camera=camera)
    except DeviceChangeRefused as refusal:
        messages.error(request, refusal.message)
    else:
        label = channel.name or channel.key
        if camera is None:
            messages.success(
                request, _("Channel %(channel)s is no camera now.") % {"channel": label}
            )
        else:
            messages.success(
                request,
                _("Channel %(channel)s is %(camera)s now.")
                % {"channel": label, "camera": camera.label},
            )
    return redirect("devices:site_devices", site_id=site_id)


@require_http_methods(["GET", "HEAD", "POST"])
@participant_required
def device_remove(request: ParticipantRequest, device_id: int) -> HttpResponse:
    device = get_object_or_404(
        Device.objects.select_related("site"),
        pk=device_id,
        site__participant=request.participant,
        revoked_at__isnull=True,
    )
    if request.method == "POST":
        try:
            device_services.device_revoke(actor=_actor(request), device=device)
        except DeviceChangeRefused as refusal:
            messages.error(request, refusal.message)
        else:
            messages.success(
                request,
                _("%(device)s is removed: it can no longer connect.") % {"device": device},
            )
        return redirect("devices:site_devices", site_id=device.site_id)
    return render(request, "liveview/device_remove.html", {"device": device, "site": device.site})
