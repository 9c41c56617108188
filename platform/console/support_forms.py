"""The vendor console's forms for support sessions, vendor roles and the platform audit log.
Types are checked here; the rules (reason, time limits, who may) by console.support."""

from __future__ import annotations

from django import forms
from django.conf import settings

from console.models import PlatformAuditEntry, VendorRole
from tenants.models import Department


class SupportRequestForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=1000,
        required=False,  # console.support.support_request says what is missing, specifically
        help_text="What you will do and why; the department's administrators read it.",
    )
    minutes = forms.IntegerField(
        label="Length (minutes)",
        required=False,
        min_value=1,
        max_value=settings.SUPPORT_SESSION_MAX_MINUTES,
        initial=settings.SUPPORT_SESSION_MINUTES,
    )
    write = forms.BooleanField(
        label="Ask the department's administrator for write access",
        required=False,
    )


class VendorRoleForm(forms.Form):
    member = forms.IntegerField(widget=forms.HiddenInput)
    role = forms.ChoiceField(choices=VendorRole.choices)


class PlatformAuditFilterForm(forms.Form):
    action = forms.ChoiceField(
        choices=[("", "Any action"), *PlatformAuditEntry.Action.choices], required=False
    )
    department = forms.ModelChoiceField(
        queryset=Department.objects.cities().order_by("name"),
        required=False,
        empty_label="Any department",
    )
    actor = forms.CharField(label="Actor's email contains", max_length=254, required=False)
    since = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label="To", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", "The end of the range is before its start.")
        return data
