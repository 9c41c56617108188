"""The administrator's guardrails form: fields for each offence type and live-view reason of
the department. Contradictions are refused by the service (services.guardrails_set), with
messages that name the rule; the form only reads numbers and choices."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from portal.guardrails.models import Guardrails
from portal.liveview.services import live_reasons
from portal.registry.forms import FocusFirstErrorMixin
from tenants.models import Program
from tenants.units import DistanceField

NUMBER = {"invalid": _("Enter a whole number.")}


class GuardrailsForm(FocusFirstErrorMixin, forms.Form):
    live_reasons_allowed = forms.MultipleChoiceField(
        label=_("Reasons that allow a live view"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    live_grant_minutes_max = forms.IntegerField(
        label=_("Longest live view (minutes)"),
        required=False,
        error_messages=NUMBER,
        help_text=_("Empty: the program's grant length."),
    )
    live_second_approval = forms.BooleanField(
        label=_("A second staff member approves a live view outside an emergency"),
        required=False,
    )
    reveal_second_approval = forms.BooleanField(
        label=_("A second staff member approves each reveal of contact details"),
        required=False,
    )
    reveal_daily_cap = forms.IntegerField(
        label=_("Reveals per staff member per day before an administrator approves"),
        required=False,
        error_messages=NUMBER,
        help_text=_("Empty: no cap."),
    )
    emergency_overrides = forms.BooleanField(
        label=_(
            "Allow emergency overrides: a live view for an emergency reason outside the "
            "guardrails proceeds with an administrator's approval and is counted as an exception"
        ),
        required=False,
    )

    def __init__(self, *args: Any, program: Program, guardrails: Guardrails, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.offence_types = program.offence_type_choices()
        for code, label in self.offence_types:
            self.fields[f"radius_{code}"] = DistanceField(
                label=_("%(type)s: largest radius") % {"type": label},
                units=program.distance_units,
                required=False,
                initial=guardrails.radius_max_m.get(code),
            )
            self.fields[f"window_{code}"] = forms.IntegerField(
                label=_("%(type)s: longest time window (hours)") % {"type": label},
                required=False,
                error_messages=NUMBER,
                initial=guardrails.window_max_hours.get(code),
            )
        reasons = live_reasons(program)
        reasons_field = self.fields["live_reasons_allowed"]
        assert isinstance(reasons_field, forms.MultipleChoiceField)
        reasons_field.choices = [(reason.code, reason.label) for reason in reasons]
        self.all_reasons = [reason.code for reason in reasons]
        allowed = guardrails.live_reasons_allowed
        self.fields["live_reasons_allowed"].initial = (
            self.all_reasons if allowed is None else allowed
        )
        for name in (
            "live_grant_minutes_max",
            "live_second_approval",
            "reveal_second_approval",
            "reveal_daily_cap",
            "emergency_overrides",
        ):
            self.fields[name].initial = getattr(guardrails, name)

    def type_rows(self) -> list[tuple[str, forms.BoundField, forms.BoundField]]:
        return [
            (label, self[f"radius_{code}"], self[f"window_{code}"])
            for code, label in self.offence_types
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        data["radius_max_m"] = {
            code: data[f"radius_{code}"]
            for code, _label in self.offence_types
            if data.get(f"radius_{code}") is not None
        }
        data["window_max_hours"] = {
            code: data[f"window_{code}"]
            for code, _label in self.offence_types
            if data.get(f"window_{code}") is not None
        }
        allowed = data.get("live_reasons_allowed") or []
        # Every reason ticked: no guardrail (a reason the department adds later is allowed too).
        data["live_reasons_allowed"] = (
            None if set(allowed) >= set(self.all_reasons) else list(allowed)
        )
        return data
