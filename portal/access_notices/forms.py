"""The forms of owners' notices: the owner's choice, a case's delay, the department's maximum."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from portal.access_notices.models import NoticePreference


class PreferenceForm(forms.Form):
    frequency = forms.ChoiceField(
        label=_("Tell me when police access my details"),
        choices=NoticePreference.Frequency.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose how you want to be told."),
            "invalid_choice": _("Choose how you want to be told."),
        },
    )


class DelayForm(forms.Form):
    # Bounds are the service's to enforce, with their own messages (notice_delay_set).
    days = forms.IntegerField(
        label=_("Delay the owners' notices by (days)"),
        error_messages={
            "required": _("Give the delay as a whole number of days."),
            "invalid": _("Give the delay as a whole number of days."),
        },
    )
    reason = forms.CharField(
        label=_("Why: the investigation the delay protects"),
        max_length=300,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class DelayMaxForm(forms.Form):
    delay_max_days = forms.IntegerField(
        label=_("Longest delay of an owner's notice (days)"),
        help_text=_("0 allows no delay; at most 90 days."),
        error_messages={
            "required": _("Give the longest delay as a whole number of days."),
            "invalid": _("Give the longest delay as a whole number of days."),
        },
    )
