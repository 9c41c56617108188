"""The department console's pages: they translate HTTP to its services and selectors."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from allauth.mfa.utils import is_mfa_enabled
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from portal.department import selectors, services
from portal.department.forms import CanvassEntryForm, IncidentForm, RevealForm, StaffInviteForm
from portal.department.models import AuditEntry, CanvassEntry, Incident, StaffMember
from portal.models import Participant, Site
from portal.selectors import sites_searchable

View = Callable[..., HttpResponse]
Role = StaffMember.Role
CASEWORK = (Role.ADMINISTRATOR, Role.INVESTIGATOR, Role.OPERATOR)
# A missing person may have walked far: the canvass reaches further.
MISSING_PERSON_RADIUS_FACTOR = 2


def staff_required(*roles: str) -> Callable[[View], View]:
    """Signed-in department staff with a second factor set up, and (if given) one of roles.
    Anonymous visitors go to sign-in; residents and other roles get 403."""

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
            if roles and staff.role not in roles:
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
    counts["searchable"] = sites_searchable().count()
    goal = program.goal_camera_count
    progress = round(100 * counts["total"] / goal) if goal else None
    return render(
        request, "department/home.html", {"counts": counts, "goal": goal, "progress": progress}
    )


@require_http_methods(["GET", "HEAD", "POST"])
@staff_required(Role.ADMINISTRATOR)
def staff(request: HttpRequest) -> HttpResponse:
    form = StaffInviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.staff_invite(request=request, **form.cleaned_data)
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
@staff_required(*CASEWORK)
def incidents(request: HttpRequest) -> HttpResponse:
    program = request.tenant.program  # type: ignore[attr-defined]
    form = IncidentForm(request.POST or None, program=program)
    if request.method == "POST" and form.is_valid():
        incident = services.incident_open(opened_by=request.user, **form.cleaned_data)
        return redirect("department:incident", incident_id=incident.pk)
    return render(
        request,
        "department/incidents.html",
        {"form": form, "incidents": Incident.objects.all()[:100], "program": program},
    )


def _canvass(incident: Incident) -> list[Site]:
    radius = incident.radius_m * (MISSING_PERSON_RADIUS_FACTOR if incident.skips_retention else 1)
    sites = list(
        selectors.sites_near(
            latitude=incident.latitude,
            longitude=incident.longitude,
            radius_m=radius,
            seen_at=None if incident.skips_retention else incident.starts_at,
        ).prefetch_related("cameras")
    )
    entries = {entry.site_id: entry for entry in CanvassEntry.objects.filter(incident=incident)}
    for site in sites:
        site.entry = entries.get(site.pk)  # type: ignore[attr-defined]
    return sites


@require_safe
@staff_required(*CASEWORK)
def incident(request: HttpRequest, incident_id: int) -> HttpResponse:
    incident = get_object_or_404(Incident, pk=incident_id)
    return render(
        request,
        "department/incident.html",
        {
            "incident": incident,
            "sites": _canvass(incident),
            "states": CanvassEntry.State.choices,
            "reveal_form": RevealForm(),
        },
    )


@require_POST
@staff_required(*CASEWORK)
def canvass_entry(request: HttpRequest, incident_id: int, site_id: int) -> HttpResponse:
    incident = get_object_or_404(Incident, pk=incident_id)
    site = get_object_or_404(Site, pk=site_id)
    form = CanvassEntryForm(request.POST)
    if form.is_valid():
        services.canvass_entry_update(incident=incident, site=site, **form.cleaned_data)
        messages.success(request, _("Saved."))
    else:
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
    return redirect("department:incident", incident_id=incident.pk)


@require_POST
@staff_required(*CASEWORK)
def reveal(request: HttpRequest, incident_id: int, site_id: int) -> HttpResponse:
    """Contact details, shown only in answer to this request, after it is recorded."""
    incident = get_object_or_404(Incident, pk=incident_id)
    site = get_object_or_404(sites_searchable(), pk=site_id)
    form = RevealForm(request.POST)
    if not form.is_valid():
        return render(
            request,
            "department/reveal.html",
            {"incident": incident, "site": site, "form": form},
            status=400,
        )
    services.contact_reveal(
        request=request, site=site, incident=incident, reason=form.cleaned_data["reason"]
    )
    return render(
        request, "department/reveal.html", {"incident": incident, "site": site, "shown": True}
    )


@require_safe
@staff_required(Role.ADMINISTRATOR)
def audit(request: HttpRequest) -> HttpResponse:
    entries = AuditEntry.objects.select_related("incident")
    action = request.GET.get("action", "")
    actor = request.GET.get("actor", "").strip()
    if action in AuditEntry.Action.values:
        entries = entries.filter(action=action)
    if actor:
        entries = entries.filter(actor_email__icontains=actor[:254])
    return render(
        request,
        "department/audit.html",
        {
            "entries": entries[:500],
            "actions": AuditEntry.Action.choices,
            "action": action,
            "actor": actor,
        },
    )
