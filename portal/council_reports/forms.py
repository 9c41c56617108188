"""The administrator's forms: the period of a new report (a preset or custom dates), and the
department's own section."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django import forms
from django.utils.translation import pgettext_lazy

from portal.council_reports.models import CouncilReport

LAST_QUARTER = "last_quarter"
LAST_YEAR = "last_year"
CUSTOM = "custom"


def preset_period(preset: str, today: date) -> tuple[date, date]:
    """The last full calendar quarter, or the last full calendar year, before `today`."""
    if preset == LAST_YEAR:
        return date(today.year - 1, 1, 1), date(today.year - 1, 12, 31)
    quarter_start = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    end = quarter_start - timedelta(days=1)
    return date(end.year, end.month - 2, 1), end


class PeriodForm(forms.Form):
    preset = forms.ChoiceField(
        label=pgettext_lazy("council_reports", "Period"),
        choices=[
            (LAST_QUARTER, pgettext_lazy("council_reports", "Last quarter")),
            (LAST_YEAR, pgettext_lazy("council_reports", "Last year")),
            (CUSTOM, pgettext_lazy("council_reports", "Custom dates")),
        ],
        initial=LAST_QUARTER,
        widget=forms.RadioSelect,
    )
    start = forms.DateField(
        label=pgettext_lazy("council_reports", "From (custom dates)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    end = forms.DateField(
        label=pgettext_lazy("council_reports", "Until (custom dates)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(self, *args: Any, today: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today

    def period(self) -> tuple[date, date]:
        """The chosen period (call after is_valid)."""
        data = self.cleaned_data
        if data["preset"] != CUSTOM:
            return preset_period(data["preset"], self.today)
        return data["start"], data["end"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("preset") == CUSTOM:
            for field in ("start", "end"):
                if not data.get(field) and field not in self.errors:
                    self.add_error(
                        field,
                        pgettext_lazy("council_reports", "Give both dates of a custom period."),
                    )
        return data


class DepartmentFieldsForm(forms.ModelForm):
    class Meta:
        model = CouncilReport
        fields = ["complaints", "costs", "funding_source", "effectiveness"]
        widgets = {
            field: forms.Textarea(attrs={"rows": 3})
            for field in ["complaints", "costs", "funding_source", "effectiveness"]
        }
