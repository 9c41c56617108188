"""The billing console's forms: they check types and shapes; billing.actions decides the rest."""

from __future__ import annotations

from decimal import Decimal

from django import forms

from billing.actions import COMPLIMENTARY_MONTHS_MAX
from billing.models import DevicePlan, Fulfilment, Subscription
from tenants.models import Department

REASON_HELP = "Kept in the subscription's history with your name."


def _reason_field(required: bool = True) -> forms.CharField:
    return forms.CharField(
        label="Reason" if required else "Note (optional)",
        max_length=500,
        required=required,
        help_text=REASON_HELP,
        widget=forms.TextInput,
    )


class SubscriptionFilterForm(forms.Form):
    city = forms.ModelChoiceField(
        queryset=Department.objects.cities().order_by("name"), required=False, empty_label="All"
    )
    status = forms.ChoiceField(choices=[("", "All"), *Subscription.Status.choices], required=False)
    plan = forms.ModelChoiceField(
        queryset=DevicePlan.objects.all(), required=False, empty_label="All"
    )
    q = forms.CharField(
        label="Search",
        max_length=255,
        required=False,
        help_text="Address, Stripe id (sub_, cus_, cs_) or the customer's email.",
    )


class RefundForm(forms.Form):
    amount = forms.DecimalField(
        label="Amount",
        required=False,
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0.01"),
        help_text="Leave empty to refund everything still refundable.",
    )
    reason = _reason_field()
    token = forms.RegexField(
        regex=r"^[A-Za-z0-9_-]{16,64}$",
        widget=forms.HiddenInput,
        error_messages={"invalid": "This form is out of date. Reload the page and try again."},
    )

    def amount_cents(self) -> int | None:
        amount = self.cleaned_data.get("amount")
        return None if amount is None else int(amount * 100)


class CancelForm(forms.Form):
    WHEN = [("period_end", "At the end of the paid period"), ("now", "Now")]
    when = forms.ChoiceField(choices=WHEN, widget=forms.RadioSelect, initial="period_end")
    reason = _reason_field()


class ComplimentaryForm(forms.Form):
    months = forms.IntegerField(min_value=1, max_value=COMPLIMENTARY_MONTHS_MAX, initial=1)
    reason = _reason_field()


class FulfilmentForm(forms.Form):
    state = forms.ChoiceField(
        choices=[(state.value, state.label) for state in Fulfilment.ORDER[1:]],
        widget=forms.HiddenInput,
    )
    carrier = forms.CharField(max_length=60, required=False)
    tracking_number = forms.CharField(max_length=80, required=False)
    reason = _reason_field(required=False)


class AlertResolveForm(forms.Form):
    reason = _reason_field()
