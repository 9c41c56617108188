"""The forms of a resident's self-service pages: their account's preferences and a change of
their answer to a department's request."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from portal.access_notices.models import NoticePreference
from portal.department.models import NotificationRecipient


class PreferencesForm(forms.Form):
    language = forms.ChoiceField(
        label=_("Language of the department's emails and of this portal"),
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose a language."),
            "invalid_choice": _("Choose one of the languages this portal offers."),
        },
    )
    access_notices = forms.ChoiceField(
        label=_("Tell me when police access my details"),
        choices=NoticePreference.Frequency.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose how you want to be told."),
            "invalid_choice": _("Choose how you want to be told."),
        },
    )
    area_notices = forms.TypedChoiceField(
        label=_("Area notices (“check your camera” after an incident near you)"),
        choices=[
            ("yes", _("Send me area notices")),
            ("no", _("Do not send me area notices")),
        ],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
        help_text=_(
            "A request for footage about your own site always reaches you, whatever you choose."
        ),
        error_messages={
            "required": _("Choose whether to receive area notices."),
            "invalid_choice": _("Choose whether to receive area notices."),
        },
    )

    def __init__(
        self,
        data: Mapping[str, Any] | None = None,
        *,
        languages: list[tuple[str, str]],
        initial: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(data, initial=initial)
        field = self.fields["language"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = languages


class AnswerChangeForm(forms.Form):
    answer = forms.ChoiceField(
        choices=NotificationRecipient.Answer.choices,
        error_messages={
            "required": _("Choose one of the two answers."),
            "invalid_choice": _("Choose one of the two answers."),
        },
    )
