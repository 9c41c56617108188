"""The vendor console's device catalog (plans, kept in step with Stripe) and department licenses:
vendor staff whose role runs billing (console.access) with a second factor. Views translate HTTP to
billing.catalog and billing.licenses."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from billing.catalog import catalog_sync, catalog_sync_all, plan_create, plan_update
from billing.gateway import (
    PaymentsNotConfigured,
    StripeRefused,
    StripeUnavailable,
    payments_configured,
)
from billing.licenses import license_issue, license_send
from billing.models import DevicePlan, License, PlanOffer
from console.audit import billing_action_record
from console.billing_views import billing_staff_required
from console.catalog_forms import LicenseForm, LicenseSendForm, PlanForm
from tenants.models import Department

NOT_CONFIGURED = (
    "Payments are not configured on this installation (no STRIPE_SECRET_KEY): nothing was "
    "sent to Stripe."
)


def _errors_into(form: Form, error: ValidationError) -> None:
    for field, problems in error.message_dict.items():
        form.add_error(field if field in form.fields else None, problems)


def _stripe_failed(request: HttpRequest, error: Exception) -> None:
    if isinstance(error, PaymentsNotConfigured):
        messages.error(request, NOT_CONFIGURED)
    elif isinstance(error, StripeUnavailable):
        messages.error(request, f"{error.message} Nothing was changed here.")
    elif isinstance(error, StripeRefused):
        messages.error(request, f"Stripe refused: {error.message} Nothing was changed here.")


@require_safe
@billing_staff_required
def plans(request: HttpRequest) -> HttpResponse:
    rows = DevicePlan.objects.prefetch_related(
        Prefetch("offers", queryset=PlanOffer.objects.select_related("department"))
    ).order_by("yearly_price", "pk")
    return render(
        request,
        "console/catalog/plans.html",
        {"plans": rows, "payments_configured": payments_configured()},
    )


@require_http_methods(["GET", "HEAD", "POST"])
@billing_staff_required
def plan_new(request: HttpRequest) -> HttpResponse:
    form = PlanForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            plan = plan_create(**form.service_fields())
        except ValidationError as error:
            _errors_into(form, error)
        else:
            billing_action_record(actor=request.user, what="plan_create", plan=plan.pk)
            messages.success(request, f"{plan.name} is in the catalog; sync it to sell it.")
            return redirect("console:plans")
    return render(
        request,
        "console/catalog/plan_form.html",
        {"form": form, "plan": None},
        status=400 if form.is_bound else 200,
    )


@require_http_methods(["GET", "HEAD", "POST"])
@billing_staff_required
def plan_edit(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan = get_object_or_404(DevicePlan, pk=plan_id)
    form = PlanForm(request.POST or None, plan=plan)
    if request.method == "POST" and form.is_valid():
        try:
            plan = plan_update(plan=plan, **form.service_fields())
        except ValidationError as error:
            _errors_into(form, error)
        else:
            billing_action_record(actor=request.user, what="plan_update", plan=plan.pk)
            messages.success(
                request, f"{plan.name} is saved; sync it so that Stripe's prices follow."
            )
            return redirect("console:plans")
    return render(
        request,
        "console/catalog/plan_form.html",
        {"form": form, "plan": plan},
        status=400 if form.is_bound else 200,
    )


@require_POST
@billing_staff_required
def plan_sync(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan = get_object_or_404(DevicePlan, pk=plan_id)
    try:
        plan = catalog_sync(plan=plan)
    except (PaymentsNotConfigured, StripeUnavailable, StripeRefused) as error:
        _stripe_failed(request, error)
    else:
        messages.success(request, f"{plan.name} is in step with Stripe.")
    return redirect("console:plans")


@require_POST
@billing_staff_required
def plans_sync(request: HttpRequest) -> HttpResponse:
    try:
        results = catalog_sync_all()
    except PaymentsNotConfigured as error:
        _stripe_failed(request, error)
        return redirect("console:plans")
    failed = [result for result in results if result.error]
    for result in failed:
        messages.error(request, f"{result.plan.name}: {result.error}")
    synced = len(results) - len(failed)
    messages.success(request, f"{synced} of {len(results)} plans are in step with Stripe.")
    return redirect("console:plans")


@require_safe
@billing_staff_required
def licenses(request: HttpRequest) -> HttpResponse:
    departments = (
        Department.objects.cities()
        .prefetch_related(
            Prefetch("licenses", queryset=License.objects.order_by("-period_start", "-pk"))
        )
        .order_by("name")
    )
    return render(request, "console/catalog/licenses.html", {"departments": departments})


def _license_call(form: Form, call: Callable[[], License], *, unchanged: str) -> License | None:
    """Run one license service call; its refusals and Stripe's failures go on the form, with
    what was left as it was (`unchanged`)."""
    try:
        return call()
    except ValidationError as error:
        _errors_into(form, error)
    except PaymentsNotConfigured:
        form.add_error(None, NOT_CONFIGURED)
    except StripeUnavailable as error:
        form.add_error(None, f"{error.message} {unchanged}")
    except StripeRefused as error:
        form.add_error(None, f"Stripe refused: {error.message} {unchanged}")
    return None


def _license_sent(request: HttpRequest, license_: License, *, what: str) -> HttpResponse:
    """A license invoice issued or sent: recorded as a billing action, said, back to the list."""
    billing_action_record(
        actor=request.user,
        what=what,
        department=license_.department,
        license=license_.pk,
        po_number=license_.po_number,
    )
    messages.success(
        request,
        f"The license invoice for {license_.department.name} was sent "
        f"(PO {license_.po_number}, due {license_.due_date}).",
    )
    return redirect("console:licenses")


@require_http_methods(["GET", "HEAD", "POST"])
@billing_staff_required
def license_new(request: HttpRequest) -> HttpResponse:
    form = LicenseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        issued = _license_call(
            form,
            lambda: license_issue(
                actor_email=getattr(request.user, "email", ""), **form.service_fields()
            ),
            unchanged="No license was recorded.",
        )
        if issued is not None:
            return _license_sent(request, issued, what="license_issue")
    return render(
        request,
        "console/catalog/license_form.html",
        {"form": form, "payments_configured": payments_configured()},
        status=400 if form.is_bound else 200,
    )


@require_http_methods(["GET", "HEAD", "POST"])
@billing_staff_required
def license_send_view(request: HttpRequest, license_id: int) -> HttpResponse:
    """Send a draft license's invoice (one made when a department was provisioned from its
    request): finalized and sent through Stripe; the PO number is asked for when missing."""
    license_ = get_object_or_404(License.objects.select_related("department"), pk=license_id)
    form = LicenseSendForm(request.POST or None, initial={"po_number": license_.po_number})
    if license_.status != License.Status.DRAFT:
        messages.error(
            request, f"This license is {license_.get_status_display().lower()}: nothing to send."
        )
        return redirect("console:licenses")
    if request.method == "POST" and form.is_valid():
        sent = _license_call(
            form,
            lambda: license_send(
                actor_email=getattr(request.user, "email", ""),
                license_=license_,
                po_number=form.cleaned_data["po_number"],
            ),
            unchanged="The license is still a draft.",
        )
        if sent is not None:
            return _license_sent(request, sent, what="license_send")
    return render(
        request,
        "console/catalog/license_send.html",
        {"form": form, "license": license_, "payments_configured": payments_configured()},
        status=400 if form.is_bound else 200,
    )
