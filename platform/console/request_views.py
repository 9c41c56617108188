"""The vendor's queue of program requests: the list with its tabs and search, one request's page
(its fields, flags, duplicates and history), and the note and status forms that call the review
service (onboarding.review). Vendor staff whose role manages departments (approving a request
leads to creating one)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe
from onboarding import review
from onboarding.models import ProgramRequest

from console.models import VendorCapability
from console.request_forms import NoteForm, QueueFilterForm, StatusForm
from console.views import vendor_capability_required
from tenants.models import Department

PAGE_SIZE = 50
Status = ProgramRequest.Status


@require_safe
@vendor_capability_required(VendorCapability.DEPARTMENTS_MANAGE)
def program_requests(request: HttpRequest) -> HttpResponse:
    form = QueueFilterForm(request.GET or None)
    page = None
    tab = review.QUEUE_TAB_DEFAULT
    if not form.is_bound or form.is_valid():
        query = ""
        if form.is_bound:
            tab, query = form.tab(), form.cleaned_data["q"]
        page = Paginator(review.program_requests_queue(tab=tab, query=query), PAGE_SIZE).get_page(
            request.GET.get("page")
        )
    counts = review.program_request_counts()
    search = request.GET.get("q", "") if page is not None else ""
    context = {
        "form": form,
        "page": page,
        "tab": tab,
        "tabs": [(each, counts[each.key]) for each in review.QUEUE_TABS],
        "search": search,
    }
    return render(
        request, "console/requests/queue.html", context, status=200 if page is not None else 400
    )


def _program_request(request_id: int) -> ProgramRequest:
    found = review.program_requests_flagged().filter(pk=request_id).first()
    if found is None:
        raise Http404("No such program request.")
    return found


def _buttons(program_request: ProgramRequest) -> list[tuple[str, str]]:
    """The status steps offered on the request's page (declining has its own form)."""
    labels = {
        Status.IN_REVIEW: "Start review" if program_request.status == Status.NEW else "Reopen",
        Status.APPROVED: "Approve",
    }
    allowed = program_request.can_become
    return [(status, label) for status, label in labels.items() if allowed(status)]


def _page(
    request: HttpRequest,
    program_request: ProgramRequest,
    *,
    status: int = 200,
    note_form: NoteForm | None = None,
    status_form: StatusForm | None = None,
    refused: str = "",
) -> HttpResponse:
    served = (
        Department.objects.cities()
        .filter(city__iexact=program_request.city, state__iexact=program_request.state)
        .exclude(pk=program_request.department_id)
        .order_by("name")
    )
    context: dict[str, Any] = {
        "program_request": program_request,
        "duplicates": program_request.duplicates.order_by("created_at", "pk"),
        "served": served,
        "events": program_request.events.select_related("actor"),
        "buttons": _buttons(program_request),
        "can_decline": program_request.can_become(Status.DECLINED),
        "note_form": note_form or NoteForm(),
        "status_form": status_form or StatusForm(),
        "refused": refused,
        "provision_path": reverse("console:program_request_provision", args=[program_request.pk]),
    }
    return render(request, "console/requests/request.html", context, status=status)


@require_safe
@vendor_capability_required(VendorCapability.DEPARTMENTS_MANAGE)
def program_request(request: HttpRequest, request_id: int) -> HttpResponse:
    return _page(request, _program_request(request_id))


def _refusal(error: ValidationError) -> str:
    return " ".join(error.messages)


@require_POST
@vendor_capability_required(VendorCapability.DEPARTMENTS_MANAGE)
def program_request_status(request: HttpRequest, request_id: int) -> HttpResponse:
    program_request = _program_request(request_id)
    form = StatusForm(request.POST)
    if not form.is_valid():
        return _page(request, program_request, status=400, status_form=form)
    try:
        changed = review.program_request_transition(
            program_request=program_request,
            to_status=form.cleaned_data["to_status"],
            actor=request.user,
            reason=form.cleaned_data["reason"],
        )
    except ValidationError as error:
        # What the request is now (another staff member may just have changed it).
        return _page(request, _program_request(request_id), status=400, refused=_refusal(error))
    messages.success(
        request,
        f"Request #{changed.pk} is now {changed.get_status_display().lower()}; "
        f"{changed.contact_email} is emailed.",
    )
    return redirect("console:program_request", request_id=changed.pk)


@require_POST
@vendor_capability_required(VendorCapability.DEPARTMENTS_MANAGE)
def program_request_note(request: HttpRequest, request_id: int) -> HttpResponse:
    program_request = _program_request(request_id)
    form = NoteForm(request.POST)
    if form.is_valid():
        try:
            review.program_request_note(
                program_request=program_request, actor=request.user, text=form.cleaned_data["text"]
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "The note is added to the request's history.")
            return redirect("console:program_request", request_id=program_request.pk)
    return _page(request, program_request, status=400, note_form=form)
