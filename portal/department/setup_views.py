"""The dashboard's first-run checklist, changed by an administrator: an import declared not
needed (or needed after all), the completed list hidden or shown again."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_POST

from portal.department.setup import SetupChange, SetupRefused, setup_checklist_change
from portal.department.views import ACCOUNTS, StaffRequest, staff_required
from portal.registry.audit import Actor
from tenants.http import client_ip


class SetupChangeForm(forms.Form):
    change = forms.ChoiceField(
        choices=SetupChange.choices,
        error_messages={"invalid_choice": _lazy("Unknown change to the setup steps.")},
    )


DONE = {
    SetupChange.IMPORT_NOT_NEEDED: _lazy("Noted: you have no existing list to import."),
    SetupChange.IMPORT_NEEDED: _lazy("The import step is back on your list."),
    SetupChange.HIDE: _lazy("The setup steps are hidden."),
    SetupChange.SHOW: _lazy("The setup steps are shown again."),
}


@require_POST
@staff_required(ACCOUNTS)
def setup_checklist(request: StaffRequest) -> HttpResponse:
    form = SetupChangeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Unknown change to the setup steps."))
        return redirect("department:home")
    change = form.cleaned_data["change"]
    try:
        setup_checklist_change(
            actor=Actor.of_staff(request.staff, client_ip(request)),
            department=request.tenant,
            change=change,
        )
    except SetupRefused as refused:
        messages.error(request, str(refused.message))
    else:
        messages.success(request, str(DONE[change]))
    return redirect("department:home")
