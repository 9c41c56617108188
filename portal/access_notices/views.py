"""The pages of owners' notices: the owner's choice (/my/notices/), a case's delay and closing
and the department's maximum delay (console). They translate HTTP to the services."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from portal.access_notices import selectors, services
from portal.access_notices.forms import DelayForm, DelayMaxForm, PreferenceForm
from portal.department.models import Incident
from portal.department.views import StaffRequest, staff_required
from portal.registry.audit import Actor
from portal.registry.models import Capability
from portal.residents.views import ParticipantRequest, participant_required
from tenants.http import client_ip


@require_http_methods(["GET", "HEAD", "POST"])
@participant_required
def preferences(request: ParticipantRequest) -> HttpResponse:
    """The owner's choice: an email at each access, or one summary a week."""
    participant = request.participant
    form = PreferenceForm(
        request.POST if request.method == "POST" else None,
        initial={"frequency": selectors.frequency_of(participant)},
    )
    if request.method == "POST" and form.is_valid():
        services.notice_preference_set(
            actor=Actor.of_participant(participant, client_ip(request)),
            participant=participant,
            frequency=form.cleaned_data["frequency"],
        )
        messages.success(request, _("Your choice is saved."))
        return redirect("access_notices:preferences")
    return render(
        request,
        "access_notices/preferences.html",
        {"form": form},
        status=400 if request.method == "POST" else 200,
    )


def _actor(request: StaffRequest) -> Actor:
    return Actor.of_staff(request.staff, client_ip(request))


@require_http_methods(["GET", "HEAD", "POST"])
@staff_required(Capability.CASEWORK)
def delay(request: StaffRequest, incident_id: int) -> HttpResponse:
    """A case's delay of its owners' notices: its state, and the form to set it."""
    incident = get_object_or_404(Incident, pk=incident_id)
    form = DelayForm(request.POST if request.method == "POST" else None)
    problem = ""
    if request.method == "POST" and form.is_valid():
        try:
            services.notice_delay_set(
                actor=_actor(request),
                incident=incident,
                days=form.cleaned_data["days"],
                reason=form.cleaned_data["reason"],
            )
        except services.DelayRefused as refused:
            problem = refused.message
        else:
            messages.success(request, _("The owners' notices of this case are delayed."))
            return redirect("access_notices_staff:delay", incident_id=incident.pk)
    elif request.method == "POST":
        problem = " ".join(str(error) for errors in form.errors.values() for error in errors)
    return render(
        request,
        "access_notices/delay.html",
        {
            "incident": incident,
            "form": form,
            "problem": problem,
            "case": selectors.case_notices(incident),
            "settings": services.notice_settings(),
        },
        status=400 if problem else 200,
    )


@require_POST
@staff_required(Capability.CASEWORK)
def close(request: StaffRequest, incident_id: int) -> HttpResponse:
    """Close the case's investigation: its held notices go out at the next run."""
    incident = get_object_or_404(Incident, pk=incident_id)
    services.investigation_close(actor=_actor(request), incident=incident)
    messages.success(
        request, _("The investigation is closed: the owners' held notices go out now.")
    )
    return redirect("access_notices_staff:delay", incident_id=incident.pk)


@require_http_methods(["GET", "HEAD", "POST"])
@staff_required(Capability.ADMINISTER)
def delay_settings(request: StaffRequest) -> HttpResponse:
    """The department's longest delay of an owner's notice (at most 90 days)."""
    current = services.notice_settings()
    form = DelayMaxForm(
        request.POST if request.method == "POST" else None,
        initial={"delay_max_days": current.delay_max_days},
    )
    problem = ""
    if request.method == "POST" and form.is_valid():
        try:
            services.delay_max_set(actor=_actor(request), days=form.cleaned_data["delay_max_days"])
        except services.DelayRefused as refused:
            problem = refused.message
        else:
            messages.success(request, _("The longest delay is saved."))
            return redirect("access_notices_staff:settings")
    elif request.method == "POST":
        problem = " ".join(str(error) for errors in form.errors.values() for error in errors)
    return render(
        request,
        "access_notices/settings.html",
        {"form": form, "problem": problem, "current": current},
        status=400 if problem else 200,
    )
