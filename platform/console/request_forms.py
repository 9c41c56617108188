"""The vendor console's forms for the program requests' queue: the queue's filters, a note and a
status step. Types and lengths are checked here; what may follow what, by the review service
(onboarding.review), in one place."""

from __future__ import annotations

from django import forms
from onboarding.models import ProgramRequest
from onboarding.review import (
    NOTE_MAX_LENGTH,
    QUEUE_TAB_DEFAULT,
    QUEUE_TABS,
    REASON_MAX_LENGTH,
)


class QueueFilterForm(forms.Form):
    status = forms.ChoiceField(choices=[(tab.key, tab.label) for tab in QUEUE_TABS], required=False)
    q = forms.CharField(
        label="Search",
        max_length=150,
        required=False,
        help_text="Agency, city or the contact's email.",
    )

    def tab(self) -> str:
        return self.cleaned_data.get("status") or QUEUE_TAB_DEFAULT


class NoteForm(forms.Form):
    text = forms.CharField(
        label="Note",
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Seen by vendor staff only.",
        error_messages={"required": "Write the note first."},
    )


class StatusForm(forms.Form):
    """One of the buttons (`to_status`), with the reason the requester receives."""

    # Every status: the service says why one cannot be given (only provisioning makes a request
    # live, only the requester's confirmation makes it new).
    to_status = forms.ChoiceField(
        choices=ProgramRequest.Status.choices,
        error_messages={"invalid_choice": "That is not a status a request can be given."},
    )
    reason = forms.CharField(
        label="Reason (sent to the requester)",
        max_length=REASON_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
