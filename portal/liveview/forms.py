"""The staff console's live-view forms. The reason is checked by the service (a missing or
unknown one gets its own message there), so the form only offers the department's list."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from portal.liveview.models import NOTICE_DELAY_MAX
from portal.liveview.services import CASE_NUMBER_MAX, NOTE_MAX, LiveReason

NOTICE_DELAY_HOURS_MAX = int(NOTICE_DELAY_MAX.total_seconds() // 3600)


class GrantForm(forms.Form):
    """Opening a live view: the reason from the department's list, the case, a note."""

    reason = forms.CharField(label=_("Reason"), required=False, widget=forms.Select)
    case_number = forms.CharField(label=_("Case number"), max_length=CASE_NUMBER_MAX)
    note = forms.CharField(
        label=_("Note (optional; never the owner's name, phone or email)"),
        max_length=NOTE_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, reasons: list[LiveReason], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [("", _("Choose a reason"))] + [
            (reason.code, _("%(reason)s (emergency)") % {"reason": reason.label})
            if reason.emergency
            else (reason.code, reason.label)
            for reason in reasons
        ]
        self.fields["reason"].widget = forms.Select(choices=choices)


class GrantOpenForm(GrantForm):
    notice_delay_hours = forms.IntegerField(
        label=_("Delay the owner's notice (hours, emergencies only)"),
        min_value=0,
        max_value=NOTICE_DELAY_HOURS_MAX,
        required=False,
        initial=0,
    )
    # Empty: the department's grant length; a longer one is refused by its guardrails.
    minutes = forms.IntegerField(
        label=_("Length (minutes, optional)"),
        required=False,
        error_messages={"invalid": _("Enter a whole number.")},
    )
