from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class PolicyForm(forms.Form):
    """The department's published texts, as it writes them."""

    policy_text = forms.CharField(
        label=_("Policy"),
        max_length=20_000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("What the registry is for, what staff may and may not do with it."),
    )
    retention_text = forms.CharField(
        label=_("Retention rules"),
        max_length=10_000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("How long registrations, footage and the audit trail are kept."),
    )
    funding_text = forms.CharField(
        label=_("Funding"),
        max_length=10_000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("What the program costs and who pays for it."),
    )
