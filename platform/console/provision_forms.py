"""The vendor console's form for provisioning a department from an approved program request: the
onboarding form (console.forms.DepartmentForm) with the draft license's terms."""

from __future__ import annotations

from typing import Any

from django import forms

from console.catalog_forms import MoneyField, cents
from console.forms import DepartmentForm

LICENSE_FIELDS = ("amount", "period_start", "po_number", "contract")


class ProvisionForm(DepartmentForm):
    amount = MoneyField(
        label="License amount (yearly, dollars)",
        help_text="From the price list for the expected number of cameras; change it if agreed.",
    )
    period_start = forms.DateField(
        label="License period starts", widget=forms.DateInput(attrs={"type": "date"})
    )
    po_number = forms.CharField(
        label="Purchase-order number",
        max_length=60,
        required=False,
        help_text="May wait: the draft invoice asks for it before it is sent.",
    )
    contract = forms.CharField(label="Cooperative contract", max_length=120, required=False)

    def department_fields(self) -> dict[str, Any]:
        """What tenants.services.department_provision takes."""
        return {
            name: value for name, value in self.cleaned_data.items() if name not in LICENSE_FIELDS
        }

    def license_fields(self) -> dict[str, Any]:
        """What onboarding.provisioning.program_request_provision takes for the license."""
        return {
            "license_amount": cents(self.cleaned_data["amount"]),
            "license_period_start": self.cleaned_data["period_start"],
            "po_number": self.cleaned_data["po_number"],
            "contract": self.cleaned_data["contract"],
        }
