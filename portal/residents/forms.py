"""The resident portal's own forms: sign-up extras and opting out."""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import HttpRequest
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from portal.registry.services import participant_create


class SignupForm(forms.Form):
    """allauth's sign-up form gains an optional organisation name (ACCOUNT_SIGNUP_FORM_CLASS)."""

    organisation_name = forms.CharField(
        label=_("Business or organization (optional)"),
        max_length=150,
        required=False,
        help_text=_("Leave empty if you are registering a home."),
    )

    def signup(self, request: HttpRequest, user: Any) -> None:
        participant_create(
            user=user,
            organisation_name=self.cleaned_data.get("organisation_name", ""),
            language=get_language() or "en",
        )


class OptOutForm(forms.Form):
    confirm = forms.BooleanField(
        label=_("Yes, delete my sites, cameras and contact details now."),
        error_messages={"required": _("Tick the box to confirm that you want to leave.")},
    )
    close_account = forms.BooleanField(label=_("Also close my account."), required=False)
