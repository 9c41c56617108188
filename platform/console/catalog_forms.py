"""The vendor console's forms for device plans and department licenses (English only, like the
rest of the vendor console). Types are checked here; the billing services decide the rest."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms

from billing.models import DevicePlan
from tenants.models import Department


def cents(amount: Decimal) -> int:
    return int((amount * 100).to_integral_value())


class MoneyField(forms.DecimalField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_digits", 9)
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("min_value", Decimal("0"))
        kwargs.setdefault("max_value", Decimal("999999.99"))
        super().__init__(**kwargs)


class PlanForm(forms.Form):
    slug = forms.SlugField(
        label="Code",
        max_length=40,
        help_text="Names the Stripe lookup keys, e.g. hub-4. Cannot change once created.",
    )
    name = forms.CharField(max_length=80)
    cameras_supported = forms.IntegerField(min_value=1, max_value=512)
    storage_gb = forms.IntegerField(label="Storage (GB)", min_value=0, max_value=1_000_000)
    video_search = forms.BooleanField(required=False)
    device_price = MoneyField(label="Device price (one time)", help_text="In dollars, e.g. 350.")
    yearly_price = MoneyField(label="Yearly subscription", help_text="In dollars, e.g. 150.")
    currency = forms.CharField(max_length=3, initial="usd", help_text="Three letters, e.g. usd.")
    description_en = forms.CharField(
        label="What the device does (English)", max_length=2000, widget=forms.Textarea
    )
    description_es = forms.CharField(
        label="What the device does (Spanish)", max_length=2000, widget=forms.Textarea
    )
    active = forms.BooleanField(label="On sale", required=False, initial=True)

    def __init__(self, *args: Any, plan: DevicePlan | None = None, **kwargs: Any) -> None:
        if plan is not None:
            kwargs.setdefault(
                "initial",
                {
                    **{name: getattr(plan, name) for name in self.base_fields},
                    "device_price": Decimal(plan.device_price) / 100,
                    "yearly_price": Decimal(plan.yearly_price) / 100,
                },
            )
        super().__init__(*args, **kwargs)
        if plan is not None:
            # A plan's code names its Stripe lookup keys: shown, never taken from the form.
            self.fields["slug"].disabled = True

    def service_fields(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["device_price"] = cents(data["device_price"])
        data["yearly_price"] = cents(data["yearly_price"])
        return data


class LicenseForm(forms.Form):
    department = forms.ModelChoiceField(
        queryset=Department.objects.none(), to_field_name="schema_name"
    )
    period_start = forms.DateField(
        label="Period starts", widget=forms.DateInput(attrs={"type": "date"})
    )
    amount = MoneyField(label="Amount (yearly)", help_text="In dollars, e.g. 125000.")
    currency = forms.CharField(max_length=3, initial="usd")
    po_number = forms.CharField(label="Purchase-order number", max_length=60)
    contract = forms.CharField(label="Cooperative contract", max_length=120, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        department = self.fields["department"]
        assert isinstance(department, forms.ModelChoiceField)
        department.queryset = Department.objects.cities().order_by("name")

    def service_fields(self) -> dict[str, Any]:
        return {**self.cleaned_data, "amount": cents(self.cleaned_data["amount"])}


class LicenseSendForm(forms.Form):
    """Sending a draft license's invoice: its PO number, if the city has not given it yet."""

    po_number = forms.CharField(
        label="Purchase-order number",
        max_length=60,
        required=False,
        help_text="Printed on the invoice; required before it is sent.",
    )
