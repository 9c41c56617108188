"""The department console's pages: they translate HTTP to its services and selectors."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import cast

from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.models import User
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.db.models import Count, Q
from django.forms import Form
from django.http import (
    HttpRequest,
    HttpResponse,
    JsonResponse,
    StreamingHttpResponse,
)
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from portal.department import selectors, services, tasks
from portal.department.forms import (
    ClipForm,
    ClipLimitsForm,
    DistanceUnitsForm,
    GeocoderChoiceForm,
    OffenceTypesForm,
    ReplyToForm,
)
from portal.department.models import (
    NotificationRecipient,
)
from portal.department.setup import setup_checklist_for
from portal.guardrails.selectors import approvals_waiting_for
from portal.registry import geocoding, registry_io
from portal.registry import services as registry_services
from portal.registry.audit import Actor
from portal.registry.models import (
    Camera,
    Capability,
    ImportJob,
    Site,
    SiteQuerySet,
    StaffMember,
)
from portal.registry.support import support_refusal
from tenants.http import DepartmentRequest, client_ip
from tenants.signing import LinkError
from tenants.storage import STORAGE_RETRY_AFTER, StorageUnavailable

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
            # Read with the staff member by StaffSessionMiddleware (staff_load), else asked here.
            elif not getattr(staff, "mfa_enabled", None) and not is_mfa_enabled(request.user):
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
            # The address search section (portal.department.geocoder_views).
            "geocoder": GeocoderChoiceForm(initial={"geocoder": program.geocoder}),
            "geocoder_works": geocoding.enabled(program),
        },
        status=400 if request.method == "POST" else 200,
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


# Imports on one page of the import history.
IMPORTS_PAGE_SIZE = 20


def _imports_page(request: StaffRequest) -> Page[ImportJob]:
    """One page of the department's imports, newest first."""
    return Paginator(ImportJob.objects.all(), IMPORTS_PAGE_SIZE).get_page(request.GET.get("page"))


def _import_refused(request: StaffRequest, error: str, status: int = 400) -> HttpResponse:
    context = {"error": error, "jobs": _imports_page(request)}
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
    return render(request, "department/import.html", {"jobs": _imports_page(request)})


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
        # "Change my answer" (the link's owner, audited) until the department downloads the
        # footage sent with it (services.AnswerFinal); a plain second click changes nothing.
        changing = "change" in request.POST and bool(recipient.answer)
        try:
            services.notification_answer(
                recipient=recipient,
                answer=choice,
                actor=Actor.of_participant(recipient.participant, client_ip(request))
                if changing
                else None,
            )
        except services.AlreadyAnswered:
            messages.info(request, _("You have already answered this request. Thank you."))
        except services.AnswerFinal as refusal:
            messages.error(request, refusal.message)
        else:
            messages.success(
                request,
                _("Your answer is changed.") if changing else _("Thank you for your answer."),
            )
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
            "answer_final": services.answer_is_final(recipient),
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


def map_site_summary(site: Site) -> str:
    """A site's popup line on the registry map: its kind, cameras and participation."""
    count = len(site.active_cameras)
    cameras = ngettext("%(count)s camera", "%(count)s cameras", count) % {"count": count}
    participation = (
        _("Integrated") if site.participation == Site.Participation.INTEGRATED else _("Registered")
    )
    return f"{site.get_kind_display()} · {cameras} · {participation}"


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
            "geocoder_enabled": geocoding.enabled(program),
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
                        # The marker's popup (maps.js), in the reader's language.
                        "address": site.address,
                        "summary": map_site_summary(site),
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
