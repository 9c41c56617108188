"""The oversight pages' forms: the trail's filters, a flag, a finding and its resolution."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from portal.oversight.models import Finding
from portal.registry.forms import choices_set
from portal.registry.models import AuditEntry


class TrailFilterForm(forms.Form):
    """The trail's filters, from the query string; a value no entry could match is refused."""

    action = forms.ChoiceField(label=pgettext_lazy("oversight", "Action"), required=False)
    case_number = forms.CharField(label=_("Case number"), max_length=40, required=False)
    site = forms.IntegerField(
        label=pgettext_lazy("oversight", "Site"), min_value=1, max_value=2**63 - 1, required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices_set(
            self, "action", [("", pgettext_lazy("oversight", "All")), *AuditEntry.Action.choices]
        )


class FlagForm(forms.Form):
    note = forms.CharField(
        label=_("Why this entry needs review (optional)"), max_length=500, required=False
    )


class FindingForm(forms.Form):
    text = forms.CharField(
        label=pgettext_lazy("oversight", "Finding"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": _("Write the finding: what was found about this entry.")},
    )
    severity = forms.ChoiceField(
        label=pgettext_lazy("oversight", "Severity"),
        choices=Finding.Severity.choices,
        error_messages={"required": _("Choose the finding's severity.")},
    )
    flag = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1)


class ResolutionForm(forms.Form):
    resolution = forms.CharField(
        label=_("The department's answer"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Write the department's answer to the finding.")},
    )
