"""The department console's pages: they translate HTTP to its services and selectors."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import wraps
from typing import cast

from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.models import User
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.forms import Form
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    JsonResponse,
    StreamingHttpResponse,
)
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from portal.department import selectors, services, tasks
from portal.department.forms import (
    NOTE_NAMES_OWNER,
    AuditFilterForm,
    CanvassEntryForm,
    ClipForm,
    ClipLimitsForm,
    DistanceUnitsForm,
    IncidentForm,
    NotifyForm,
    OffenceTypesForm,
    ReplyToForm,
    RevealForm,
    StaffInviteForm,
    StaffRoleForm,
)
from portal.department.models import (
    CanvassEntry,
    FootageClip,
    Incident,
    Notification,
    NotificationRecipient,
)
from portal.department.setup import setup_checklist_for
from portal.guardrails import services as guardrail_services
from portal.guardrails.rules import ApprovalNeeded, GuardrailRefused
from portal.guardrails.selectors import approvals_waiting_for
from portal.registry import registry_io
from portal.registry import services as registry_services
from portal.registry.audit import Actor, NoteNamesOwner
from portal.registry.csv_safe import SafeWriter
from portal.registry.models import (
    ASSIGNABLE_ROLES,
    AuditEntry,
    Camera,
    Capability,
    ImportJob,
    Site,
    SiteQuerySet,
    StaffMember,
)
from portal.registry.support import support_refusal
from tenants.http import DepartmentRequest, client_ip, private_file_response
from tenants.signing import LinkError
from tenants.storage import STORAGE_RETRY_AFTER, ForeignFile, StorageUnavailable

View = Callable[..., HttpResponseBase]
CASEWORK = Capability.CASEWORK
ADMINISTER = Capability.ADMINISTER
PERSONAL_DATA = Capability.PERSONAL_DATA
ACCOUNTS = Capability.ACCOUNTS


def _errors(form: Form) -> str:
    """A form's errors as one message, for actions that answer with a redirect."""
    return " ".join(str(error) for errors in form.errors.values() for error in errors)


class StaffRequest(DepartmentRequest):
    """A console request from signed-in staff: `staff_required` sets `staff` before the view."""

    user: User
    staff: StaffMember


def _actor(request: StaffRequest) -> Actor:
    return Actor.of_staff(request.staff, client_ip(request))


def staff_required(*capabilities: str) -> Callable[[View], View]:
    """Signed-in department staff with a second factor set up, and the capabilities given
    (StaffMember.can: the one place each role's rights are written). Anonymous visitors go to
    sign-in; residents and staff without the capability get 403. A vendor support identity
    is held to its support session instead of a second factor (portal.registry.support: the
    vendor signed in with one on the platform; read-only sessions only read)."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponseBase:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            staff = getattr(request.user, "staff", None)
            if staff is None:
                raise PermissionDenied
            if staff.is_support:
                refusal = support_refusal(staff.support_access, request.method or "GET")
                if refusal is not None:
                    cast(StaffRequest, request).staff = staff
                    return render(
                        request, "department/support_refused.html", {"refusal": refusal}, status=403
                    )
            elif not is_mfa_enabled(request.user):
                messages.info(
                    request, _("Set up an authenticator app before using the department console.")
                )
                return redirect("mfa_activate_totp")
            if not all(staff.can(capability) for capability in capabilities):
                raise PermissionDenied
            staff_request = cast(StaffRequest, request)
            staff_request.staff = staff
            return view(staff_request, *args, **kwargs)

        return wrapper

    return decorator


@require_safe
@staff_required()
def home(request: StaffRequest) -> HttpResponse:
    program = request.tenant.program
    counts = Site.objects.aggregate(
        total=Count("pk"),
        integrated=Count("pk", filter=Q(participation=Site.Participation.INTEGRATED)),
        searchable=Count("pk", filter=SiteQuerySet.searchable_condition()),
        lapsed=Count("pk", filter=SiteQuerySet.lapsed_condition()),
        paused=Count("pk", filter=SiteQuerySet.paused_condition()),
    )
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
            # Requests a guardrail holds for this staff member's approval.
            "approvals_waiting": len(approvals_waiting_for(request.staff)),
            # The first-run checklist, for administrators of a department being set up.
            "setup": setup_checklist_for(staff=request.staff, department=request.tenant),
        },
    )


@require_http_methods(["GET", "HEAD", "POST"])
@staff_required(ADMINISTER)
def staff(request: StaffRequest) -> HttpResponse:
    if request.method == "POST" and not request.staff.can(ACCOUNTS):
        raise PermissionDenied
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
    members = (
        StaffMember.objects.exclude(role=StaffMember.Role.SUPPORT)
        .select_related("user")
        .order_by("-user__is_active", "user__email")
    )
    return render(
        request,
        "department/staff.html",
        {"form": form, "members": members, "roles": ASSIGNABLE_ROLES},
    )


def _staff_change(
    request: StaffRequest, member_id: int, change: Callable[[StaffMember], StaffMember], done: str
) -> HttpResponse:
    """Apply one change to a staff account; answer with the staff page and what happened."""
    # Vendor support identities are not the department's staff: their access is the sessions'.
    member = get_object_or_404(
        StaffMember.objects.exclude(role=StaffMember.Role.SUPPORT).select_related("user"),
        pk=member_id,
    )
    try:
        changed = change(member)
    except services.StaffChangeRefused as refused:
        messages.error(request, refused.message)
    else:
        messages.success(
            request, done % {"email": changed.user.email, "role": changed.get_role_display()}
        )
    return redirect("department:staff")


@require_POST
@staff_required(ACCOUNTS)
def staff_role(request: StaffRequest, member_id: int) -> HttpResponse:
    form = StaffRoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, _errors(form))
        return redirect("department:staff")
    return _staff_change(
        request,
        member_id,
        lambda member: services.staff_role_set(
            actor=_actor(request), member=member, role=form.cleaned_data["role"]
        ),
        _("%(email)s is now %(role)s."),
    )


@require_POST
@staff_required(ACCOUNTS)
def staff_deactivate(request: StaffRequest, member_id: int) -> HttpResponse:
    return _staff_change(
        request,
        member_id,
        lambda member: services.staff_deactivate(actor=_actor(request), member=member),
        _("The account of %(email)s is deactivated: they are signed out and cannot sign in."),
    )


@require_POST
@staff_required(ACCOUNTS)
def staff_reactivate(request: StaffRequest, member_id: int) -> HttpResponse:
    return _staff_change(
        request,
        member_id,
        lambda member: services.staff_reactivate(actor=_actor(request), member=member),
        _("The account of %(email)s is active again."),
    )


@require_http_methods(["GET", "HEAD", "POST"])
@staff_required(CASEWORK)
def incidents(request: StaffRequest) -> HttpResponse:
    program = request.tenant.program
    form = IncidentForm(request.POST or None, program=program)
    if request.method == "POST" and form.is_valid():
        try:
            incident = services.incident_open(actor=_actor(request), **form.cleaned_data)
        except GuardrailRefused as refused:
            form.add_error(refused.field, refused.message)
        else:
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


# The nearest sites a canvass page shows at first; the rest come a hundred at a time on demand,
# and all of them in the CSV export.
CANVASS_ROWS = 100
# Without JavaScript the "more" link reloads the page with more rows, up to this many.
CANVASS_ROWS_MAX = 2_000


@dataclass(frozen=True)
class CanvassRow:
    """One line of the canvass page, every value ready to print (the page lists a hundred
    rows at a time, and the template only places them): the site, what its active cameras
    keep, and the state of contact with its owner. Its form fields are named with `prefix`:
    all rows share the page's one form, and so one CSRF token."""

    number: int
    site_id: int
    prefix: str
    address: str
    kind: str
    participation: str
    distance_m: int
    footage_likely: bool
    email_undeliverable: bool
    cameras: list[str]
    state: str
    notes: str
    reveal_url: str
    state_url: str
    request_url: str


def _canvass_rows(incident: Incident, sites: list[selectors.CanvassSite]) -> list[CanvassRow]:
    cameras = selectors.canvass_cameras([site.pk for site in sites])
    entries = selectors.canvass_entries(incident)
    # Labels are translated once per page, not once per row.
    kinds = {value: str(label) for value, label in Site.Kind.choices}
    participations = {value: str(label) for value, label in Site.Participation.choices}
    sees = {value: str(label) for value, label in Camera.Sees.choices}
    urls = {
        name: reverse(f"department:{name}", args=[incident.pk, 0])
        for name in ("reveal", "canvass_entry", "footage_request")
    }

    def url(name: str, site_id: int) -> str:
        return urls[name].replace("/sites/0/", f"/sites/{site_id}/")

    rows = []
    for site in sites:
        state, notes = entries.get(site.pk, (CanvassEntry.State.NOT_CONTACTED, ""))
        rows.append(
            CanvassRow(
                number=site.number,
                site_id=site.pk,
                prefix=row_prefix(site.pk),
                address=site.address,
                kind=kinds.get(site.kind, site.kind),
                participation=participations.get(site.participation, site.participation),
                distance_m=round(site.distance_m),
                footage_likely=site.footage_likely,
                email_undeliverable=site.email_undeliverable,
                cameras=[
                    f"{camera.direction}° {', '.join(sees.get(v, v) for v in camera.sees)} "
                    f"({camera.retention_days} d)"
                    for camera in cameras.get(site.pk, ())
                ],
                state=state,
                notes=notes,
                reveal_url=url("reveal", site.pk),
                state_url=url("canvass_entry", site.pk),
                request_url=url("footage_request", site.pk),
            )
        )
    return rows


def row_prefix(site_id: int) -> str:
    """The prefix of one canvass row's fields in the page's shared form."""
    return f"site{site_id}"


def _row_prefix_sent(request: HttpRequest, site_id: int) -> str | None:
    """The row's prefix when the canvass page's shared form sent the fields (it sends every
    row's), None when a form for this site alone sent them without one."""
    prefix = row_prefix(site_id) + "-"
    return prefix[:-1] if any(name.startswith(prefix) for name in request.POST) else None


def _canvass_sites_geojson(sites: list[selectors.CanvassSite]) -> dict[str, object]:
    """The listed sites for the incident's map: compact GeoJSON points, numbered as listed."""
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {
                    "type": "Point",
                    "coordinates": [round(site.longitude, 6), round(site.latitude, 6)],
                },
                "properties": {"n": site.number},
            }
            for site in sites
        ],
    }


def _count_arg(request: HttpRequest, name: str, default: int, most: int) -> int:
    try:
        value = int(request.GET.get(name, default))
    except ValueError:
        return default
    return min(max(value, 0), most)


def _more(incident: Incident, shown: int, total: int) -> dict[str, object] | None:
    """The "more" link after `shown` rows: the next rows for the page's script, or the page
    with more rows for a browser without it."""
    if shown >= total:
        return None
    page = reverse("department:incident", args=[incident.pk])
    rows = reverse("department:canvass_rows", args=[incident.pk])
    return {
        "rows_url": f"{rows}?after={shown}",
        "page_url": f"{page}?shown={min(shown + CANVASS_ROWS, CANVASS_ROWS_MAX)}#canvass",
        "without_script": shown < CANVASS_ROWS_MAX,
        "label": ngettext(
            "Show the next %(count)s of %(total)s site",
            "Show the next %(count)s of %(total)s sites",
            total,
        )
        % {"count": min(CANVASS_ROWS, total - shown), "total": total},
    }


@require_safe
@staff_required(CASEWORK)
def incident(request: StaffRequest, incident_id: int) -> HttpResponse:
    incident = get_object_or_404(Incident, pk=incident_id)
    shown = max(_count_arg(request, "shown", CANVASS_ROWS, CANVASS_ROWS_MAX), CANVASS_ROWS)
    canvass = selectors.canvass(incident, limit=shown)
    # The page lists the canvass's addresses: recorded once per visit (services.CANVASS_VISIT).
    services.canvass_viewed(actor=_actor(request), incident=incident, site_count=canvass.total)
    return render(
        request,
        "department/incident.html",
        {
            "incident": incident,
            "rows": _canvass_rows(incident, canvass.sites),
            "total": canvass.total,
            "more": _more(incident, len(canvass.sites), canvass.total),
            "map_sites": _canvass_sites_geojson(canvass.sites),
            "map_tiles": settings.MAP_TILE_URL,
            "map_attribution": settings.MAP_TILE_ATTRIBUTION,
            "states": CanvassEntry.State.choices,
            "notify_form": NotifyForm(),
            "notifications": _notifications(incident),
            "clips": incident.clips.all(),
        },
    )


def _notifications(incident: Incident) -> list[Notification]:
    """The incident's area notices, newest first, with their counts, and `queued` set on those
    whose job still waits in the outbox for the broker (Redis down when it was sent)."""
    notifications: list[Notification] = list(
        incident.notifications.filter(kind=Notification.Kind.AREA)
        .annotate(
            sent=Count("recipients", filter=Q(recipients__sent_at__isnull=False)),
            unknown=Count(
                "recipients",
                filter=Q(recipients__claimed_at__isnull=False, recipients__sent_at=None),
            ),
            with_footage=Count("recipients", filter=Q(recipients__answer="has_footage")),
            nothing=Count("recipients", filter=Q(recipients__answer="nothing")),
        )
        .order_by("-created_at")
    )
    queued = services.notification_queued([notification.pk for notification in notifications])
    for notification in notifications:
        notification.queued = notification.pk in queued  # type: ignore[attr-defined]
    return notifications


@require_safe
@staff_required(CASEWORK)
def canvass_rows(request: StaffRequest, incident_id: int) -> JsonResponse:
    """The canvass's next rows after `after`, for the page's "more" link: their HTML (the
    page's own row template) and their map points. Recorded like the page (once per visit)."""
    incident = get_object_or_404(Incident, pk=incident_id)
    after = _count_arg(request, "after", 0, 10**9)
    canvass = selectors.canvass(incident, offset=after, limit=CANVASS_ROWS)
    services.canvass_viewed(actor=_actor(request), incident=incident, site_count=canvass.total)
    rows = _canvass_rows(incident, canvass.sites)
    return JsonResponse(
        {
            "rows": render_to_string(
                "department/_canvass_rows.html",
                {"rows": rows, "states": CanvassEntry.State.choices},
                request=request,
            ),
            "sites": _canvass_sites_geojson(canvass.sites),
            "total": canvass.total,
            "more": _more(incident, after + len(rows), canvass.total),
        }
    )


@require_POST
@staff_required(CASEWORK)
def canvass_entry(request: StaffRequest, incident_id: int, site_id: int) -> HttpResponse:
    incident = get_object_or_404(Incident, pk=incident_id)
    site = get_object_or_404(Site, pk=site_id)
    form = CanvassEntryForm(request.POST, prefix=_row_prefix_sent(request, site.pk))
    if form.is_valid():
        services.canvass_entry_update(incident=incident, site=site, **form.cleaned_data)
        messages.success(request, _("Saved."))
    else:
        messages.error(request, _errors(form))
    return redirect("department:incident", incident_id=incident.pk)


@require_http_methods(["GET", "POST"])
@staff_required(CASEWORK)
def reveal(request: StaffRequest, incident_id: int, site_id: int) -> HttpResponse:
    """Contact details, shown only in answer to this request, after it is recorded. The page
    reloaded (a GET) reveals nothing again: it goes back to the incident with a word on why."""
    incident = get_object_or_404(Incident, pk=incident_id)
    if request.method != "POST":
        messages.info(
            request,
            _(
                "Contact details are shown only once, when you ask for them. To see them again, "
                "ask again from the incident page with a reason."
            ),
        )
        return redirect("department:incident", incident_id=incident.pk)
    site = get_object_or_404(Site.objects.searchable(), pk=site_id)
    form = RevealForm(request.POST, site=site, prefix=_row_prefix_sent(request, site.pk))
    if form.is_valid():
        try:
            services.contact_reveal(
                actor=_actor(request), site=site, incident=incident, note=form.cleaned_data["note"]
            )
        except ApprovalNeeded as needed:
            return approval_held_reveal(
                request, incident=incident, site=site, note=form.cleaned_data["note"], needed=needed
            )
        except NoteNamesOwner:  # the form checks the same rule; this is the writer's own guard
            form.add_error("note", NOTE_NAMES_OWNER)
    if form.errors:
        return render(
            request,
            "department/reveal.html",
            {"incident": incident, "site": site, "form": form},
            status=400,
        )
    return render(
        request, "department/reveal.html", {"incident": incident, "site": site, "shown": True}
    )


def approval_held_reveal(
    request: StaffRequest, *, incident: Incident, site: Site, note: str, needed: ApprovalNeeded
) -> HttpResponse:
    """A reveal a guardrail holds: recorded as a request for another staff member's approval
    (nothing is shown until then)."""
    approval = guardrail_services.approval_request_reveal(
        actor=_actor(request), incident=incident, site=site, note=note, needed=needed
    )
    return render(
        request,
        "guardrails/held.html",
        {
            "approval": approval,
            "needed": needed,
            "back": reverse("department:incident", args=[incident.pk]),
        },
        status=202,
    )


@require_http_methods(["GET", "HEAD", "POST"])
@staff_required(ADMINISTER)
def department_settings(request: StaffRequest) -> HttpResponse:
    """The department's own settings an administrator keeps: the offence types reasons use,
    the footage limits and the address answers to its emails go to."""
    program = request.tenant.program
    # Three forms on one page; the button pressed says which was sent.
    limits_sent = "limits" in request.POST
    reply_to_sent = "reply_to" in request.POST
    units_sent = "units" in request.POST
    offence_types_sent = (
        request.method == "POST" and not limits_sent and not reply_to_sent and not units_sent
    )
    form = OffenceTypesForm(
        request.POST if offence_types_sent else None,
        initial={"offence_types": OffenceTypesForm.initial_text(program.offence_types)},
    )
    limits = ClipLimitsForm(
        request.POST if limits_sent else None, initial=ClipLimitsForm.initial_for(program)
    )
    reply_to = ReplyToForm(
        request.POST if reply_to_sent else None,
        initial={"reply_to_email": program.reply_to_email},
    )
    if reply_to_sent and reply_to.is_valid():
        services.reply_to_set(program=program, email=reply_to.cleaned_data["reply_to_email"])
        messages.success(request, _("The reply-to address is saved."))
        return redirect("department:settings")
    if offence_types_sent and form.is_valid():
        services.offence_types_set(
            program=program, offence_types=form.cleaned_data["offence_types"]
        )
        messages.success(request, _("The offense types are saved."))
        return redirect("department:settings")
    if limits_sent and limits.is_valid():
        services.clip_limits_set(
            program=program,
            clips=limits.cleaned_data["clips_per_link_max"],
            megabytes=limits.cleaned_data["megabytes_per_link_max"],
        )
        messages.success(request, _("The footage limits are saved."))
        return redirect("department:settings")
    units = DistanceUnitsForm(
        request.POST if units_sent else None, initial={"distance_units": program.distance_units}
    )
    if units_sent and units.is_valid():
        services.distance_units_set(program=program, units=units.cleaned_data["distance_units"])
        messages.success(request, _("Distances are now written in the units you chose."))
        return redirect("department:settings")
    return render(
        request,
        "department/settings.html",
        {
            "form": form,
            "limits": limits,
            "reply_to": reply_to,
            "program": program,
            "units": units,
        },
        status=400 if request.method == "POST" else 200,
    )


@require_safe
@staff_required(ADMINISTER)
def audit(request: StaffRequest) -> HttpResponse:
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
@staff_required(ADMINISTER, PERSONAL_DATA)
def export_csv(request: StaffRequest) -> HttpResponseBase:
    sites = registry_services.registry_for_export(actor=_actor(request), file_format="CSV")
    response = StreamingHttpResponse(
        registry_io.export_csv(sites.iterator(chunk_size=2000)),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = 'attachment; filename="camera-registry.csv"'
    return response


@require_safe
@staff_required(ADMINISTER, PERSONAL_DATA)
def export_geojson(request: StaffRequest) -> HttpResponse:
    sites = registry_services.registry_for_export(actor=_actor(request), file_format="GeoJSON")
    response = JsonResponse(registry_io.export_geojson(sites))
    response["Content-Type"] = "application/geo+json"
    response["Content-Disposition"] = 'attachment; filename="camera-registry.geojson"'
    return response


def _import_refused(request: StaffRequest, error: str, status: int = 400) -> HttpResponse:
    context = {"error": error, "jobs": ImportJob.objects.all()[:10]}
    response = render(request, "department/import.html", context, status=status)
    if status == 503:
        response["Retry-After"] = str(STORAGE_RETRY_AFTER)
    return response


@require_http_methods(["GET", "HEAD", "POST"])
@staff_required(ADMINISTER)
def registry_import(request: StaffRequest) -> HttpResponse:
    """Upload a file: it is kept in private storage and checked in the background; its page
    (import_job) shows the progress, then the row-by-row report or the preview."""
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            return _import_refused(request, _("Choose a CSV or GeoJSON file."))
        name = upload.name or ""
        extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
        if extension not in {"csv", "geojson", "json"}:
            return _import_refused(request, _("Only .csv and .geojson files can be imported."))
        if (upload.size or 0) > registry_io.MAX_IMPORT_BYTES:
            return _import_refused(request, _("The file is larger than 20 MB; split it."))
        try:
            job = registry_services.import_start(
                actor=_actor(request), filename=name, content=upload.read()
            )
        except StorageUnavailable as failure:
            # Nothing was kept (no file, no import): the administrator tries again later.
            return _import_refused(request, failure.message, status=503)
        tasks.registry_import_check.delay(job.pk)
        return redirect("department:import_job", job_id=job.pk)
    return render(request, "department/import.html", {"jobs": ImportJob.objects.all()[:10]})


@require_safe
@staff_required(ADMINISTER, PERSONAL_DATA)
def import_job(request: StaffRequest, job_id: int) -> HttpResponse:
    """One import: its progress while a job runs, then its report, or the preview of what a
    confirmation would write (recorded: it shows addresses and names)."""
    job = get_object_or_404(ImportJob, pk=job_id)
    preview = registry_services.import_preview(actor=_actor(request), job=job)
    return render(request, "department/import_job.html", {"job": job, "preview": preview})


@require_safe
@staff_required(ADMINISTER)
def import_status(request: StaffRequest, job_id: int) -> JsonResponse:
    """How far an import's job is, for the page's progress bar (counts only)."""
    job = get_object_or_404(ImportJob, pk=job_id)
    return JsonResponse(
        {
            "status": job.status,
            "running": job.is_running,
            "rows": job.rows,
            "rows_checked": job.rows_checked,
            "percent": job.percent_checked,
        }
    )


@require_POST
@staff_required(ADMINISTER)
def import_commit(request: StaffRequest, job_id: int) -> HttpResponse:
    """Confirm a checked import: a background job writes all of its sites or none."""
    job = get_object_or_404(ImportJob, pk=job_id)
    try:
        job = registry_services.import_commit_request(actor=_actor(request), job=job)
    except registry_services.ImportNotReady:
        messages.error(request, _("This import cannot be confirmed: it is no longer waiting."))
        return redirect("department:import_job", job_id=job.pk)
    tasks.registry_import_commit.delay(job.pk)
    return redirect("department:import_job", job_id=job.pk)


@require_POST
@staff_required(ADMINISTER)
def import_cancel(request: StaffRequest, job_id: int) -> HttpResponse:
    """Drop an import that was not written; its file and checked rows are deleted at once."""
    job = get_object_or_404(ImportJob, pk=job_id)
    try:
        registry_services.import_cancel(job=job)
    except registry_services.ImportNotReady:
        messages.error(request, _("This import cannot be canceled now."))
        return redirect("department:import_job", job_id=job.pk)
    messages.success(request, _("The import was canceled and its file deleted."))
    return redirect("department:import")


# A notice recorded while the mail queue (Redis) is down: it waits in the outbox, not lost.
NOTICE_QUEUED = _lazy(
    "The notice is recorded and queued: the mail queue is briefly unavailable, and the emails "
    "go out by themselves as soon as it is back."
)


@require_POST
@staff_required(CASEWORK)
def notify(request: StaffRequest, incident_id: int) -> HttpResponse:
    incident = get_object_or_404(Incident, pk=incident_id)
    form = NotifyForm(request.POST)
    if not form.is_valid():
        messages.error(request, _errors(form))
        return redirect("department:incident", incident_id=incident.pk)
    notification = services.notification_send(
        actor=_actor(request),
        incident=incident,
        message=form.cleaned_data["message"],
    )
    if services.notification_queued([notification.pk]):
        # The broker (Redis) did not take the job: the outbox hands it over once it is back.
        messages.success(request, NOTICE_QUEUED)
    else:
        messages.success(request, _("The notice is on its way to the owners in the area."))
    return redirect("department:incident", incident_id=incident.pk)


@require_POST
@staff_required(CASEWORK)
def footage_request(request: StaffRequest, incident_id: int, site_id: int) -> HttpResponse:
    incident = get_object_or_404(Incident, pk=incident_id)
    site = get_object_or_404(Site.objects.searchable(), pk=site_id)
    form = NotifyForm(request.POST)
    if not form.is_valid():
        messages.error(request, _errors(form))
        return redirect("department:incident", incident_id=incident.pk)
    try:
        request_sent = services.footage_request(
            actor=_actor(request),
            incident=incident,
            site=site,
            message=form.cleaned_data["message"],
        )
    except services.OwnerUnreachable:
        messages.error(
            request,
            _(
                "Emails to this owner's address fail (the email provider reported it), so no "
                "request was sent: reveal their contact details and call them."
            ),
        )
        return redirect("department:incident", incident_id=incident.pk)
    if services.notification_queued([request_sent.pk]):
        messages.success(request, NOTICE_QUEUED)
    else:
        messages.success(request, _("The footage request is on its way to the owner."))
    return redirect("department:incident", incident_id=incident.pk)


@require_safe
@staff_required(CASEWORK)
def clip_download(request: StaffRequest, clip_id: int) -> HttpResponseBase:
    """Hand a clip to staff, the only way to read one: recorded first, then streamed, or
    redirected to a one-minute signed URL in object storage; always an attachment, never
    sniffed, never cached."""
    clip = get_object_or_404(FootageClip.objects.select_related("incident"), pk=clip_id)
    try:
        handout = services.clip_open(actor=_actor(request), clip=clip)
    except ForeignFile as error:
        # A row naming another city's file (it cannot come from an upload): never served.
        raise Http404 from error
    except StorageUnavailable as failure:
        # Storage unreachable, full or the file lost: said on a page of ours (not a browser's
        # connection error at a redirect); the attempt is in the audit trail (DOWNLOAD_FAILED).
        response = render(
            request,
            "department/storage_unavailable.html",
            {"problem": failure.message, "incident": clip.incident},
            status=503,
        )
        response["Retry-After"] = str(STORAGE_RETRY_AFTER)
        return response
    return private_file_response(handout)


ANSWER_PROBLEMS = {
    "invalid": (400, _lazy("This link is not valid. Copy the whole link from the email.")),
    "expired": (410, _lazy("This link has expired. Call the department if you have footage.")),
}


@require_http_methods(["GET", "HEAD", "POST"])
def answer(request: DepartmentRequest, token: str) -> HttpResponse:
    """The owner's answer to a notification, from the emailed link, without signing in."""
    try:
        recipient = services.recipient_from_token(token)
    except LinkError as error:
        status, problem = ANSWER_PROBLEMS[error.reason]
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
            try:
                services.clip_upload(
                    recipient=recipient,
                    upload=clip_form.cleaned_data["clip"],
                    program=request.tenant.program,
                    ip_address=client_ip(request),
                )
            except services.ClipRefused as refusal:
                clip_form.add_error("clip", str(refusal.message))
            except StorageUnavailable as failure:
                # Nothing was kept (no file, no row): the owner is asked to try again later.
                clip_form.add_error("clip", failure.message)
                status = 503
            else:
                messages.success(request, _("Your file is uploaded. Thank you."))
                return redirect("answer", token=token)
        status = status if status == 503 else 400
    response = render(
        request,
        "department/answer.html",
        {
            "recipient": recipient,
            "notification": recipient.notification,
            "incident": recipient.notification.incident,
            "clip_form": clip_form,
            "clips": recipient.clips.all(),
        },
        status=status,
    )
    if status == 503:
        response["Retry-After"] = str(STORAGE_RETRY_AFTER)
    return response


def _map_filters(request: StaffRequest) -> selectors.MapFilters:
    def chosen(name: str, allowed: list[str]) -> tuple[str, ...]:
        return tuple(value for value in request.GET.getlist(name) if value in allowed)

    status = request.GET.get("status", "active")
    # Paused and lapsed sites are for administrators only; anyone else asking for them gets the
    # searchable sites, as if they had not asked (the map does not offer them the choice).
    if not request.staff.sees_inactive_sites:
        status = "active"
    return selectors.MapFilters(
        kinds=chosen("kind", Site.Kind.values),
        sees=chosen("sees", Camera.Sees.values),
        participation=chosen("participation", Site.Participation.values),
        status=status if status in {"active", "paused", "lapsed", "all"} else "active",
    )


@require_safe
@staff_required()
def registry_map(request: StaffRequest) -> HttpResponse:
    program = request.tenant.program
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
def registry_map_data(request: StaffRequest) -> HttpResponse:
    """Sites (or clusters of them) in the visible box, as the map's JavaScript asks for them.
    Clusters, and everything analysts get, sit on the ~100 m grid (selectors.Grid); only staff
    with personal-data access see each site at its exact place up close, and each such answer
    is one audit entry."""
    try:
        south, west, north, east = (float(v) for v in request.GET["bbox"].split(","))
        zoom = int(request.GET["zoom"])
    except (KeyError, ValueError):
        return JsonResponse(
            {"error": _("bbox=south,west,north,east and zoom are required.")}, status=400
        )
    if not (-90 <= south <= north <= 90 and -180 <= west <= east <= 180 and 0 <= zoom <= 22):
        return JsonResponse({"error": _("The box or zoom is out of range.")}, status=400)
    filters = _map_filters(request)
    sites = selectors.sites_on_map(filters)
    grid = selectors.Grid.of(request.tenant.program)
    if zoom >= SITE_ZOOM and not request.staff.sees_personal_data:
        return JsonResponse(
            {
                "clusters": selectors.site_cells(
                    sites, south=south, west=west, north=north, east=east, grid=grid
                )
            }
        )
    if zoom >= SITE_ZOOM:
        in_view = services.map_sites_located(
            actor=_actor(request),
            sites=sites,
            box=(south, west, north, east),
            limit=MAX_SITES_IN_VIEW,
        )
        return JsonResponse(
            {
                "sites": [
                    {
                        "latitude": site.latitude,
                        "longitude": site.longitude,
                        "participation": site.participation,
                        "kind": site.kind,
                        "directions": [c.direction for c in site.active_cameras],
                    }
                    for site in in_view
                ]
            }
        )
    return JsonResponse(
        {
            "clusters": selectors.map_clusters(
                filters,
                south=south,
                west=west,
                north=north,
                east=east,
                zoom=zoom,
                grid=grid,
            )
        }
    )


@require_safe
@staff_required(ADMINISTER)
def audit_export(request: StaffRequest) -> HttpResponseBase:
    """The audit trail as CSV for the council or an auditor; the export is itself recorded."""
    entries = registry_services.audit_trail_for_export(actor=_actor(request))
    program = request.tenant.program

    def rows() -> Iterator[str]:
        buffer = io.StringIO()
        writer = SafeWriter(buffer)
        writer.writerow(
            [
                "at",
                "actor",
                "role",
                "action",
                "site",
                "category",
                "case",
                "note",
                "reason",
                "ip_address",
            ]
        )
        for entry in entries.iterator():
            writer.writerow(
                [
                    entry.at.isoformat(),
                    entry.actor_email,
                    entry.actor_role,
                    entry.action,
                    entry.site_id or "",
                    program.offence_label(entry.category) if entry.category else "",
                    entry.case_number,
                    entry.note,
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
def canvass_export(request: StaffRequest, incident_id: int) -> HttpResponse:
    """The canvass as CSV (sites from the same distance search, no contact details); recorded."""
    incident = get_object_or_404(Incident, pk=incident_id)
    sites = selectors.canvass(incident).sites
    # One entry per exported site, so that each owner sees the export among their entries.
    services.canvass_for_export(actor=_actor(request), incident=incident, sites=sites)
    cameras = selectors.canvass_camera_counts([site.pk for site in sites])
    entries = selectors.canvass_entries(incident)
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
    for site in sites:
        state, notes = entries.get(site.pk, (CanvassEntry.State.NOT_CONTACTED, ""))
        writer.writerow(
            [
                site.number,
                round(site.distance_m),
                site.address,
                site.kind,
                cameras.get(site.pk, 0),
                "yes" if site.footage_likely else "no",
                state,
                notes,
            ]
        )
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="canvass-{incident.pk}.csv"'
    return response
