"""The department console's pages: they translate HTTP to its services and selectors."""

from __future__ import annotations

import io
import re
import uuid
from collections.abc import Callable, Iterator
from functools import wraps

from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db.models import Count, Q
from django.forms import Form
from django.http import (
    FileResponse,
    HttpRequest,
    HttpResponse,
    JsonResponse,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from portal.department import selectors, services
from portal.department.forms import (
    AuditFilterForm,
    CanvassEntryForm,
    ClipForm,
    IncidentForm,
    NotifyForm,
    RevealForm,
    StaffInviteForm,
)
from portal.department.models import (
    CanvassEntry,
    FootageClip,
    Incident,
    NotificationRecipient,
)
from portal.registry import registry_io
from portal.registry import services as registry_services
from portal.registry.audit import Actor, audit_record
from portal.registry.csv_safe import SafeWriter
from portal.registry.models import AuditEntry, Camera, Capability, Participant, Site, StaffMember
from portal.registry.selectors import sites_near
from tenants.http import client_ip

View = Callable[..., HttpResponse]
CASEWORK = Capability.CASEWORK
ADMINISTER = Capability.ADMINISTER


def _errors(form: Form) -> str:
    """A form's errors as one message, for actions that answer with a redirect."""
    return " ".join(error for errors in form.errors.values() for error in errors)


def _actor(request: HttpRequest) -> Actor:
    return Actor.of_staff(request.staff, client_ip(request))  # type: ignore[attr-defined]


def staff_required(capability: str | None = None) -> Callable[[View], View]:
    """Signed-in department staff with a second factor set up, and (if given) the capability
    (StaffMember.can: the one place each role's rights are written). Anonymous visitors go to
    sign-in; residents and staff without the capability get 403."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            staff = getattr(request.user, "staff", None)
            if staff is None:
                raise PermissionDenied
            if not is_mfa_enabled(request.user):
                messages.info(
                    request, _("Set up an authenticator app before using the department console.")
                )
                return redirect("mfa_activate_totp")
            if capability is not None and not staff.can(capability):
                raise PermissionDenied
            request.staff = staff  # type: ignore[attr-defined]
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


@require_safe
@staff_required()
def home(request: HttpRequest) -> HttpResponse:
    program = request.tenant.program  # type: ignore[attr-defined]
    counts = Site.objects.aggregate(
        total=Count("pk"),
        integrated=Count("pk", filter=Q(participation=Site.Participation.INTEGRATED)),
        lapsed=Count("pk", filter=~Q(participant__status=Participant.Status.ACTIVE)),
        paused=Count("pk", filter=Q(paused=True)),
    )
    counts["searchable"] = Site.objects.searchable().count()
    goal = program.goal_camera_count
    progress = round(100 * counts["total"] / goal) if goal else None
    growth = selectors.growth_by_month()
    peak = max((month[2] for month in growth), default=0)
    return render(
        request,
        "department/home.html",
        {
            "counts": counts,
            "goal": goal,
            "progress": progress,
            "growth": [
                (month, added, total, round(100 * total / max(goal, peak, 1)))
                for month, added, total in growth
            ],
            "gaps": selectors.coverage_gaps(program),
            "program": program,
            "map_tiles": settings.MAP_TILE_URL,
            "map_attribution": settings.MAP_TILE_ATTRIBUTION,
        },
    )


@require_http_methods(["GET", "HEAD", "POST"])
@staff_required(ADMINISTER)
def staff(request: HttpRequest) -> HttpResponse:
    form = StaffInviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.staff_invite(actor=_actor(request), **form.cleaned_data)
        except services.AlreadyStaff:
            form.add_error("email", _("This email already has an account in this department."))
        else:
            messages.success(
                request,
                _("%(email)s is invited; they choose a password from the emailed link.")
                % {"email": form.cleaned_data["email"]},
            )
            return redirect("department:staff")
    members = StaffMember.objects.select_related("user").order_by("user__email")
    return render(request, "department/staff.html", {"form": form, "members": members})


@require_http_methods(["GET", "HEAD", "POST"])
@staff_required(CASEWORK)
def incidents(request: HttpRequest) -> HttpResponse:
    program = request.tenant.program  # type: ignore[attr-defined]
    form = IncidentForm(request.POST or None, program=program)
    if request.method == "POST" and form.is_valid():
        incident = services.incident_open(actor=_actor(request), **form.cleaned_data)
        return redirect("department:incident", incident_id=incident.pk)
    return render(
        request,
        "department/incidents.html",
        {
            "form": form,
            "incidents": Incident.objects.all()[:100],
            "program": program,
            "map_tiles": settings.MAP_TILE_URL,
            "map_attribution": settings.MAP_TILE_ATTRIBUTION,
        },
    )


def _canvass(incident: Incident) -> list[Site]:
    sites = list(
        sites_near(
            latitude=incident.latitude,
            longitude=incident.longitude,
            radius_m=incident.search_radius_m,
            seen_at=None if incident.skips_retention else incident.starts_at,
        ).prefetch_related("cameras")
    )
    entries = {entry.site_id: entry for entry in CanvassEntry.objects.filter(incident=incident)}
    states = [(value, escape(label)) for value, label in CanvassEntry.State.choices]
    sees = dict(Camera.Sees.choices)
    reveal_url = reverse("department:reveal", args=[incident.pk, 0])
    state_url = reverse("department:canvass_entry", args=[incident.pk, 0])
    request_url = reverse("department:footage_request", args=[incident.pk, 0])
    # What each row shows is prepared here once: the page lists hundreds of rows at 5 km.
    for site in sites:
        entry = entries.get(site.pk)
        current = entry.state if entry else CanvassEntry.State.NOT_CONTACTED
        site.entry = entry  # type: ignore[attr-defined]
        site.camera_summary = "\n".join(  # type: ignore[attr-defined]
            f"{camera.direction}° {', '.join(str(sees.get(v, v)) for v in camera.sees)} "
            f"({camera.retention_days} d)"
            for camera in site.cameras.all()
        )
        site.state_options = mark_safe(  # type: ignore[attr-defined]
            "".join(
                f'<option value="{value}"{" selected" if value == current else ""}>{label}</option>'
                for value, label in states
            )
        )
        site.reveal_url = reveal_url.replace("/sites/0/", f"/sites/{site.pk}/")  # type: ignore[attr-defined]
        site.state_url = state_url.replace("/sites/0/", f"/sites/{site.pk}/")  # type: ignore[attr-defined]
        site.request_url = request_url.replace("/sites/0/", f"/sites/{site.pk}/")  # type: ignore[attr-defined]
    return sites


@require_safe
@staff_required(CASEWORK)
def incident(request: HttpRequest, incident_id: int) -> HttpResponse:
    incident = get_object_or_404(Incident, pk=incident_id)
    sites = _canvass(incident)
    return render(
        request,
        "department/incident.html",
        {
            "incident": incident,
            "sites": sites,
            "map_points": [
                {
                    "latitude": s.latitude,
                    "longitude": s.longitude,
                    "number": n,
                    "participation": s.participation,
                }
                for n, s in enumerate(sites, start=1)
            ],
            "map_tiles": settings.MAP_TILE_URL,
            "map_attribution": settings.MAP_TILE_ATTRIBUTION,
            "states": CanvassEntry.State.choices,
            "reveal_form": RevealForm(),
            "notify_form": NotifyForm(),
            "notifications": incident.notifications.filter(site__isnull=True)
            .annotate(
                sent=Count("recipients", filter=Q(recipients__sent_at__isnull=False)),
                with_footage=Count("recipients", filter=Q(recipients__answer="has_footage")),
                nothing=Count("recipients", filter=Q(recipients__answer="nothing")),
            )
            .order_by("-created_at"),
            "clips": incident.clips.all(),
        },
    )


@require_POST
@staff_required(CASEWORK)
def canvass_entry(request: HttpRequest, incident_id: int, site_id: int) -> HttpResponse:
    incident = get_object_or_404(Incident, pk=incident_id)
    site = get_object_or_404(Site, pk=site_id)
    form = CanvassEntryForm(request.POST)
    if form.is_valid():
        services.canvass_entry_update(incident=incident, site=site, **form.cleaned_data)
        messages.success(request, _("Saved."))
    else:
        messages.error(request, _errors(form))
    return redirect("department:incident", incident_id=incident.pk)


@require_POST
@staff_required(CASEWORK)
def reveal(request: HttpRequest, incident_id: int, site_id: int) -> HttpResponse:
    """Contact details, shown only in answer to this request, after it is recorded."""
    incident = get_object_or_404(Incident, pk=incident_id)
    site = get_object_or_404(Site.objects.searchable(), pk=site_id)
    form = RevealForm(request.POST)
    if not form.is_valid():
        return render(
            request,
            "department/reveal.html",
            {"incident": incident, "site": site, "form": form},
            status=400,
        )
    services.contact_reveal(
        actor=_actor(request), site=site, incident=incident, reason=form.cleaned_data["reason"]
    )
    return render(
        request, "department/reveal.html", {"incident": incident, "site": site, "shown": True}
    )


@require_safe
@staff_required(ADMINISTER)
def audit(request: HttpRequest) -> HttpResponse:
    entries = AuditEntry.objects.all()
    filters = AuditFilterForm(request.GET)
    action = actor = ""
    if filters.is_valid():
        action, actor = filters.cleaned_data["action"], filters.cleaned_data["actor"]
        if action:
            entries = entries.filter(action=action)
        if actor:
            entries = entries.filter(actor_email__icontains=actor)
    else:
        messages.error(
            request,
            " ".join(
                f"{filters[name].label}: {error}"
                for name, errors in filters.errors.items()
                for error in errors
            ),
        )
    return render(
        request,
        "department/audit.html",
        {
            "entries": entries[:500],
            "actions": AuditEntry.Action.choices,
            "action": action,
            "actor": actor,
        },
        status=200 if filters.is_valid() else 400,
    )


@require_safe
@staff_required(ADMINISTER)
def export_csv(request: HttpRequest) -> HttpResponse:
    sites = registry_services.registry_for_export(actor=_actor(request), file_format="CSV")
    response = StreamingHttpResponse(
        registry_io.export_csv(sites.iterator(chunk_size=2000)),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = 'attachment; filename="camera-registry.csv"'
    return response


@require_safe
@staff_required(ADMINISTER)
def export_geojson(request: HttpRequest) -> HttpResponse:
    sites = registry_services.registry_for_export(actor=_actor(request), file_format="GeoJSON")
    response = JsonResponse(registry_io.export_geojson(sites))
    response["Content-Type"] = "application/geo+json"
    response["Content-Disposition"] = 'attachment; filename="camera-registry.geojson"'
    return response


IMPORT_FOLDER = "imports"


@require_http_methods(["GET", "HEAD", "POST"])
@staff_required(ADMINISTER)
def registry_import(request: HttpRequest) -> HttpResponse:
    """Upload, preview with a row-by-row report, then commit all rows or none."""
    program = request.tenant.program  # type: ignore[attr-defined]
    if request.method == "POST" and "commit" in request.POST:
        token = request.POST.get("token", "")
        name = f"{IMPORT_FOLDER}/{request.tenant.schema_name}/{token}"  # type: ignore[attr-defined]
        if not re.fullmatch(
            r"[0-9a-f]{32}\.(csv|geojson|json)", token
        ) or not default_storage.exists(name):
            messages.error(
                request, _("This import has expired or was already done; upload the file again.")
            )
            return redirect("department:import")
        with default_storage.open(name) as stored:
            content = stored.read()
        check = registry_io.import_check(content, token, program=program)
        if check.ok:
            count = registry_services.registry_import(
                actor=_actor(request), check=check, program=program
            )
            default_storage.delete(name)
            messages.success(request, _("%(count)s sites imported.") % {"count": count})
            return redirect("department:home")
        return render(request, "department/import.html", {"check": check, "token": token})
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            return render(
                request,
                "department/import.html",
                {"error": _("Choose a CSV or GeoJSON file.")},
                status=400,
            )
        extension = upload.name.rsplit(".", 1)[-1].lower() if "." in upload.name else ""
        if extension not in {"csv", "geojson", "json"}:
            return render(
                request,
                "department/import.html",
                {"error": _("Only .csv and .geojson files can be imported.")},
                status=400,
            )
        if upload.size > registry_io.MAX_IMPORT_BYTES:
            return render(
                request,
                "department/import.html",
                {"error": _("The file is larger than 20 MB; split it.")},
                status=400,
            )
        content = upload.read()
        check = registry_io.import_check(content, upload.name, program=program)
        token = f"{uuid.uuid4().hex}.{extension}"
        if check.ok:
            default_storage.save(
                f"{IMPORT_FOLDER}/{request.tenant.schema_name}/{token}", ContentFile(content)
            )  # type: ignore[attr-defined]
        return render(
            request,
            "department/import.html",
            {"check": check, "token": token},
            status=200 if check.ok else 400,
        )
    return render(request, "department/import.html", {})


@require_POST
@staff_required(CASEWORK)
def notify(request: HttpRequest, incident_id: int) -> HttpResponse:
    incident = get_object_or_404(Incident, pk=incident_id)
    form = NotifyForm(request.POST)
    if not form.is_valid():
        messages.error(request, _errors(form))
        return redirect("department:incident", incident_id=incident.pk)
    services.notification_send(
        actor=_actor(request),
        incident=incident,
        message=form.cleaned_data["message"],
        radius_m=incident.search_radius_m,
    )
    messages.success(request, _("The notice is on its way to the owners in the area."))
    return redirect("department:incident", incident_id=incident.pk)


@require_POST
@staff_required(CASEWORK)
def footage_request(request: HttpRequest, incident_id: int, site_id: int) -> HttpResponse:
    incident = get_object_or_404(Incident, pk=incident_id)
    site = get_object_or_404(Site.objects.searchable(), pk=site_id)
    form = NotifyForm(request.POST)
    if not form.is_valid():
        messages.error(request, _errors(form))
        return redirect("department:incident", incident_id=incident.pk)
    services.footage_request(
        actor=_actor(request), incident=incident, site=site, message=form.cleaned_data["message"]
    )
    messages.success(request, _("The footage request is on its way to the owner."))
    return redirect("department:incident", incident_id=incident.pk)


@require_safe
@staff_required(CASEWORK)
def clip_download(request: HttpRequest, clip_id: int) -> HttpResponse:
    """Hand a clip to staff; each download is a custody record in the audit trail."""
    clip = get_object_or_404(FootageClip.objects.select_related("incident"), pk=clip_id)
    stream = services.clip_open(actor=_actor(request), clip=clip)
    return FileResponse(
        stream,
        as_attachment=True,
        filename=clip.original_name,
        content_type=clip.content_type or "application/octet-stream",
    )


ANSWER_PROBLEMS = {
    "invalid": (400, _lazy("This link is not valid. Copy the whole link from the email.")),
    "expired": (410, _lazy("This link has expired. Call the department if you have footage.")),
}


@require_http_methods(["GET", "HEAD", "POST"])
def answer(request: HttpRequest, token: str) -> HttpResponse:
    """The owner's answer to a notification, from the emailed link, without signing in."""
    try:
        recipient = services.recipient_from_token(token)
    except services.AnswerLinkError as error:
        status, problem = ANSWER_PROBLEMS[str(error)]
        return render(request, "department/answer.html", {"problem": problem}, status=status)
    clip_form = ClipForm()
    status = 200
    if request.method == "POST" and "answer" in request.POST:
        choice = request.POST["answer"]
        if choice not in NotificationRecipient.Answer.values:
            return render(
                request,
                "department/answer.html",
                {"problem": _("Choose one of the two answers.")},
                status=400,
            )
        try:
            services.notification_answer(recipient=recipient, answer=choice)
        except services.AlreadyAnswered:
            messages.info(request, _("You have already answered this request. Thank you."))
        else:
            messages.success(request, _("Thank you for your answer."))
        return redirect("answer", token=token)
    if request.method == "POST":
        if recipient.answer != NotificationRecipient.Answer.HAS_FOOTAGE:
            return render(
                request,
                "department/answer.html",
                {"problem": _("Answer “I have footage” before uploading.")},
                status=400,
            )
        clip_form = ClipForm(request.POST, request.FILES)
        if clip_form.is_valid():
            services.clip_upload(
                recipient=recipient,
                upload=clip_form.cleaned_data["clip"],
                ip_address=client_ip(request),
            )
            messages.success(request, _("Your file is uploaded. Thank you."))
            return redirect("answer", token=token)
        status = 400
    return render(
        request,
        "department/answer.html",
        {
            "recipient": recipient,
            "incident": recipient.notification.incident,
            "clip_form": clip_form,
            "clips": recipient.clips.all(),
        },
        status=status,
    )


def _map_filters(request: HttpRequest) -> selectors.MapFilters:
    def chosen(name: str, allowed: list[str]) -> tuple[str, ...]:
        return tuple(value for value in request.GET.getlist(name) if value in allowed)

    status = request.GET.get("status", "active")
    return selectors.MapFilters(
        kinds=chosen("kind", Site.Kind.values),
        sees=chosen("sees", Camera.Sees.values),
        participation=chosen("participation", Site.Participation.values),
        status=status if status in {"active", "paused", "lapsed", "all"} else "active",
    )


@require_safe
@staff_required()
def registry_map(request: HttpRequest) -> HttpResponse:
    program = request.tenant.program  # type: ignore[attr-defined]
    return render(
        request,
        "department/map.html",
        {
            "program": program,
            "filters": _map_filters(request),
            "kinds": Site.Kind.choices,
            "sees": Camera.Sees.choices,
            "participations": Site.Participation.choices,
            "map_tiles": settings.MAP_TILE_URL,
            "map_attribution": settings.MAP_TILE_ATTRIBUTION,
        },
    )


# Beyond this zoom the map shows each site and its cameras' directions; below it, clusters.
SITE_ZOOM = 16
MAX_SITES_IN_VIEW = 3000


@require_safe
@staff_required()
def registry_map_data(request: HttpRequest) -> HttpResponse:
    """Sites (or clusters of them) in the visible box, as the map's JavaScript asks for them."""
    try:
        south, west, north, east = (float(v) for v in request.GET["bbox"].split(","))
        zoom = int(request.GET["zoom"])
    except (KeyError, ValueError):
        return JsonResponse(
            {"error": _("bbox=south,west,north,east and zoom are required.")}, status=400
        )
    if not (-90 <= south <= north <= 90 and -180 <= west <= east <= 180 and 0 <= zoom <= 22):
        return JsonResponse({"error": _("The box or zoom is out of range.")}, status=400)
    sites = selectors.sites_on_map(_map_filters(request))
    if zoom >= SITE_ZOOM:
        in_view = sites.filter(
            latitude__range=(south, north), longitude__range=(west, east)
        ).prefetch_related("cameras")[:MAX_SITES_IN_VIEW]
        return JsonResponse(
            {
                "sites": [
                    {
                        "latitude": site.latitude,
                        "longitude": site.longitude,
                        "participation": site.participation,
                        "kind": site.kind,
                        "directions": [c.direction for c in site.cameras.all() if not c.paused],
                    }
                    for site in in_view
                ]
            }
        )
    cell = 360 / 2**zoom / 4
    return JsonResponse(
        {
            "clusters": selectors.site_clusters(
                sites, south=south, west=west, north=north, east=east, cell_deg=cell
            )
        }
    )


@require_safe
@staff_required(ADMINISTER)
def audit_export(request: HttpRequest) -> HttpResponse:
    """The audit trail as CSV for the council or an auditor; the export is itself recorded."""
    audit_record(
        actor=_actor(request), action=AuditEntry.Action.EXPORT, reason="Audit trail export (CSV)"
    )

    def rows() -> Iterator[str]:
        buffer = io.StringIO()
        writer = SafeWriter(buffer)
        writer.writerow(["at", "actor", "role", "action", "site", "case", "reason", "ip_address"])
        for entry in AuditEntry.objects.order_by("at", "pk").iterator():
            writer.writerow(
                [
                    entry.at.isoformat(),
                    entry.actor_email,
                    entry.actor_role,
                    entry.action,
                    entry.site_id or "",
                    entry.case_number,
                    entry.reason,
                    entry.ip_address or "",
                ]
            )
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
        yield buffer.getvalue()

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="audit-trail.csv"'
    return response


@require_safe
@staff_required(CASEWORK)
def canvass_export(request: HttpRequest, incident_id: int) -> HttpResponse:
    """The canvass as CSV (sites from the same distance search, no contact details); recorded."""
    incident = get_object_or_404(Incident, pk=incident_id)
    sites = _canvass(incident)
    # One entry per exported site, so that each owner sees the export among their entries.
    services.canvass_for_export(actor=_actor(request), incident=incident, sites=sites)
    buffer = io.StringIO()
    writer = SafeWriter(buffer)
    writer.writerow(
        [
            "number",
            "distance_m",
            "address",
            "site_type",
            "cameras",
            "footage_likely",
            "state",
            "notes",
        ]
    )
    for number, site in enumerate(sites, start=1):
        writer.writerow(
            [
                number,
                round(site.distance_m),
                site.address,
                site.kind,
                len(site.cameras.all()),
                "yes" if site.footage_likely else "no",
                site.entry.state if site.entry else CanvassEntry.State.NOT_CONTACTED,
                site.entry.notes if site.entry else "",
            ]
        )
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="canvass-{incident.pk}.csv"'
    return response
