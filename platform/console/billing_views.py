"""The vendor's billing console (platform host): subscriptions across cities, their history and
the actions on them, recurring revenue, payment problems and the device fulfilment queue. Only
vendor staff with a second factor whose role runs billing (console.access) get in; the pages
translate HTTP to billing.console (reads) and billing.actions (writes)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST, require_safe

from billing import actions, console
from billing.actions import ActionPending, ActionRefused
from billing.models import Alert, Fulfilment, Invoice, Subscription
from console.access import vendor_can
from console.audit import billing_action_record
from console.billing_forms import (
    AlertResolveForm,
    CancelForm,
    ComplimentaryForm,
    FulfilmentForm,
    RefundForm,
    SubscriptionFilterForm,
)
from console.models import VendorCapability
from console.views import vendor_staff_required

View = Callable[..., HttpResponse]
PAGE_SIZE = 50


class BillingRequest(HttpRequest):
    """A request from vendor staff allowed to run billing (set by billing_staff_required)."""

    user: User


def _recorded(
    request: BillingRequest, what: str, subscription: Subscription | None, **detail: Any
) -> None:
    """A billing action done: in the platform audit log (console.audit)."""
    billing_action_record(
        actor=request.user,
        what=what,
        department=subscription.department if subscription is not None else None,
        subscription=subscription.pk if subscription is not None else None,
        **detail,
    )


def billing_staff_required(view: View) -> View:
    """Vendor staff (a second factor set up, see vendor_staff_required) whose role runs
    billing (console.access.vendor_can); other vendor staff get 403."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if not vendor_can(request.user, VendorCapability.BILLING):
            raise PermissionDenied
        return view(cast(BillingRequest, request), *args, **kwargs)

    return vendor_staff_required(wrapper)


def _refused(form: Any, refusal: ActionRefused) -> None:
    form.add_error(None, refusal.message)


# -- subscriptions --------------------------------------------------------------------------


@require_safe
@billing_staff_required
def subscriptions(request: BillingRequest) -> HttpResponse:
    form = SubscriptionFilterForm(request.GET or None)
    found = None
    if not form.is_bound or form.is_valid():
        data = form.cleaned_data if form.is_bound else {}
        found = Paginator(
            console.subscriptions_find(
                department=data.get("city"),
                status=data.get("status") or "",
                plan=data.get("plan"),
                query=data.get("q") or "",
            ),
            PAGE_SIZE,
        ).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "console/billing/subscriptions.html",
        {"form": form, "page": found, "query": query.urlencode()},
        status=200 if found is not None else 400,
    )


def _story_page(
    request: BillingRequest,
    subscription_id: int,
    *,
    refused: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    story = console.subscription_story(subscription_id)
    if story is None:
        raise Http404("No such subscription.")
    refused = refused or {}
    refund_forms = {
        invoice.pk: RefundForm(initial={"token": secrets.token_urlsafe(24)})
        for invoice in story.invoices
        if invoice.refundable > 0 and invoice.payment_intent_id
    }
    # A refused refund is shown in its invoice's row, or above the table when the invoice has
    # nothing left to refund.
    refused_invoice, refused_refund = refused.get("refund") or (None, None)
    if refused_invoice in refund_forms and isinstance(refused_refund, RefundForm):
        refund_forms[refused_invoice] = refused_refund
    context = {
        "story": story,
        "subscription": story.subscription,
        "invoices": [(invoice, refund_forms.get(invoice.pk)) for invoice in story.invoices],
        "refund_refused": refused_refund if refused_invoice not in refund_forms else None,
        "cancel_form": refused.get("cancel") or CancelForm(),
        "complimentary_form": refused.get("complimentary") or ComplimentaryForm(),
    }
    return render(request, "console/billing/subscription.html", context, status=status)


@require_safe
@billing_staff_required
def subscription(request: BillingRequest, subscription_id: int) -> HttpResponse:
    return _story_page(request, subscription_id)


@require_POST
@billing_staff_required
def refund(request: BillingRequest, invoice_id: int) -> HttpResponse:
    invoice = get_object_or_404(
        Invoice.objects.select_related("subscription"), pk=invoice_id, subscription__isnull=False
    )
    subscription = cast(Subscription, invoice.subscription)
    form = RefundForm(request.POST)
    if form.is_valid():
        try:
            done = actions.invoice_refund(
                invoice=invoice,
                amount=form.amount_cents(),
                form_token=form.cleaned_data["token"],
                actor_email=request.user.email,
                reason=form.cleaned_data["reason"],
            )
        except ActionPending as pending:
            _recorded(request, "refund_pending", subscription, invoice=invoice.pk)
            messages.warning(request, pending.message)
            return redirect("console:billing_subscription", subscription_id=subscription.pk)
        except ActionRefused as refusal:
            _refused(form, refusal)
            if refusal.stripe_refused:
                data = request.POST.copy()
                data["token"] = secrets.token_urlsafe(24)
                form.data = data
        else:
            amount = actions.money(done.amount or 0, invoice.currency)
            _recorded(request, "refund", subscription, invoice=invoice.pk, amount=done.amount)
            messages.success(request, f"Refunded {amount} of invoice {invoice}.")
            return redirect("console:billing_subscription", subscription_id=subscription.pk)
    return _story_page(request, subscription.pk, refused={"refund": (invoice.pk, form)}, status=400)


@require_POST
@billing_staff_required
def cancel(request: BillingRequest, subscription_id: int) -> HttpResponse:
    subscription = get_object_or_404(Subscription, pk=subscription_id)
    form = CancelForm(request.POST)
    if form.is_valid():
        act = (
            actions.subscription_cancel_now
            if form.cleaned_data["when"] == "now"
            else actions.subscription_cancel_at_period_end
        )
        try:
            act(
                subscription=subscription,
                actor_email=request.user.email,
                reason=form.cleaned_data["reason"],
            )
        except ActionPending as pending:
            _recorded(request, "cancel_pending", subscription)
            messages.warning(request, pending.message)
            return redirect("console:billing_subscription", subscription_id=subscription.pk)
        except ActionRefused as refusal:
            _refused(form, refusal)
        else:
            _recorded(request, f"cancel_{form.cleaned_data['when']}", subscription)
            messages.success(
                request,
                "Cancelled: the site is back to registered."
                if form.cleaned_data["when"] == "now"
                else "The subscription will end with its paid period.",
            )
            return redirect("console:billing_subscription", subscription_id=subscription.pk)
    return _story_page(request, subscription.pk, refused={"cancel": form}, status=400)


@require_POST
@billing_staff_required
def complimentary(request: BillingRequest, subscription_id: int) -> HttpResponse:
    subscription = get_object_or_404(Subscription, pk=subscription_id)
    form = ComplimentaryForm(request.POST)
    if form.is_valid():
        try:
            done = actions.subscription_complimentary(
                subscription=subscription,
                months=form.cleaned_data["months"],
                actor_email=request.user.email,
                reason=form.cleaned_data["reason"],
            )
        except ActionRefused as refusal:
            _refused(form, refusal)
        else:
            until = done.complimentary_until
            _recorded(request, "complimentary", subscription, months=form.cleaned_data["months"])
            messages.success(request, f"Complimentary until {until:%Y-%m-%d}.")
            return redirect("console:billing_subscription", subscription_id=subscription.pk)
    return _story_page(request, subscription.pk, refused={"complimentary": form}, status=400)


# -- revenue --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    title: str


@dataclass(frozen=True)
class Chart:
    """An SVG bar chart's geometry, drawn by console/billing/_chart.html (no script)."""

    currency: str
    bars: list[Bar]
    ticks: list[tuple[float, str]]
    width: int = 720
    height: int = 240
    left: int = 72
    bottom: int = 200


def revenue_chart(currency: str, points: list[console.RevenuePoint]) -> Chart:
    chart_top, bottom, left, right = 16, 200, 72, 712
    peak = max((point.yearly for point in points), default=0) or 100
    step = (right - left) / max(len(points), 1)
    scale = (bottom - chart_top) / peak
    bars = [
        Bar(
            x=round(left + index * step + 2, 1),
            y=round(bottom - point.yearly * scale, 1),
            width=round(step - 4, 1),
            height=round(point.yearly * scale, 1),
            label=f"{point.month:%b %y}" if index % 3 == 0 else "",
            title=f"{point.month:%B %Y}: ARR {actions.money(point.yearly, currency)}, "
            f"{point.subscriptions} subscriptions",
        )
        for index, point in enumerate(points)
    ]
    ticks = [
        (round(bottom - peak * share * scale, 1), actions.money(round(peak * share), currency))
        for share in (0, 0.5, 1)
    ]
    return Chart(currency=currency, bars=bars, ticks=ticks)


@require_safe
@billing_staff_required
def revenue(request: BillingRequest) -> HttpResponse:
    figures = console.revenue()
    charts = [revenue_chart(currency, points) for currency, points in figures.series.items()]
    return render(
        request,
        "console/billing/revenue.html",
        {"cities": figures.cities, "totals": figures.totals, "charts": charts},
    )


# -- problems -------------------------------------------------------------------------------


def _problems_page(
    request: BillingRequest, refused: tuple[int, AlertResolveForm] | None = None
) -> HttpResponse:
    alerts = [
        (alert, refused[1] if refused and refused[0] == alert.pk else AlertResolveForm())
        for alert in console.alerts_open()[:200]
    ]
    return render(
        request,
        "console/billing/problems.html",
        {
            "failed": console.payments_failed()[:200],
            "disputes": console.disputes()[:200],
            "alerts": alerts,
        },
        status=400 if refused else 200,
    )


@require_safe
@billing_staff_required
def problems(request: BillingRequest) -> HttpResponse:
    return _problems_page(request)


@require_POST
@billing_staff_required
def alert_resolve(request: BillingRequest, alert_id: int) -> HttpResponse:
    alert = get_object_or_404(Alert, pk=alert_id)
    form = AlertResolveForm(request.POST)
    if form.is_valid():
        try:
            actions.alert_resolve(
                alert=alert, actor_email=request.user.email, reason=form.cleaned_data["reason"]
            )
        except ActionRefused as refusal:
            _refused(form, refusal)
        else:
            _recorded(request, "alert_resolve", None, alert=alert.pk)
            messages.success(request, "Alert resolved.")
            return redirect("console:billing_problems")
    return _problems_page(request, (alert.pk, form))


# -- fulfilment -----------------------------------------------------------------------------


def _next_state(fulfilment: Fulfilment) -> Fulfilment.State | None:
    order = list(Fulfilment.ORDER)
    if fulfilment.state not in order or fulfilment.state == order[-1]:
        return None
    return order[order.index(Fulfilment.State(fulfilment.state)) + 1]


def _queue_page(
    request: BillingRequest, refused: tuple[int, FulfilmentForm] | None = None
) -> HttpResponse:
    rows = []
    for fulfilment in console.fulfilment_queue()[:500]:
        following = _next_state(fulfilment)
        form = (
            refused[1]
            if refused and refused[0] == fulfilment.pk
            else FulfilmentForm(initial={"state": following})
        )
        rows.append((fulfilment, following, form))
    return render(
        request,
        "console/billing/fulfilment.html",
        {"rows": rows, "refused": refused[1] if refused else None},
        status=400 if refused else 200,
    )


@require_safe
@billing_staff_required
def fulfilment_queue(request: BillingRequest) -> HttpResponse:
    return _queue_page(request)


@require_POST
@billing_staff_required
def fulfilment_advance(request: BillingRequest, fulfilment_id: int) -> HttpResponse:
    fulfilment = get_object_or_404(Fulfilment, pk=fulfilment_id)
    form = FulfilmentForm(request.POST)
    if form.is_valid():
        try:
            done = actions.fulfilment_advance(
                fulfilment=fulfilment,
                state=form.cleaned_data["state"],
                carrier=form.cleaned_data["carrier"],
                tracking_number=form.cleaned_data["tracking_number"],
                actor_email=request.user.email,
                reason=form.cleaned_data["reason"],
            )
        except ActionRefused as refusal:
            _refused(form, refusal)
        else:
            _recorded(request, f"fulfilment_{done.state}", done.subscription, fulfilment=done.pk)
            messages.success(
                request, f"{done.subscription.site_address}: {done.get_state_display().lower()}."
            )
            return redirect("console:billing_fulfilment")
    return _queue_page(request, (fulfilment.pk, form))
