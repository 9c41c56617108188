"""The department console's page for the city's own portal: its administrator sets the program's
name, colours, logo, welcome texts, languages and terms (a changed text is a new terms version,
which participants accept at their next visit), and whether the platform site's directory of
participating cities lists the program."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from portal.department.forms import PortalSettingsForm
from portal.department.views import ADMINISTER, StaffRequest, staff_required
from tenants.lifecycle import department_settings_apply
from tenants.models import Department
from tenants.storage import (
    STORAGE_RETRY_AFTER,
    StorageUnavailable,
    new_files_discarded_on_failure,
)


@require_http_methods(["GET", "HEAD", "POST"])
@staff_required(ADMINISTER)
def portal_settings(request: StaffRequest) -> HttpResponse:
    department = request.tenant
    form = PortalSettingsForm(
        request.POST if request.method == "POST" else None,
        request.FILES or None,
        initial=PortalSettingsForm.initial_for(department),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            # The new logo is stored before the branding row names it, and deleted again when
            # the transaction fails; a storage that cannot keep it writes nothing at all.
            with new_files_discarded_on_failure(), transaction.atomic():
                locked = Department.objects.select_for_update().get(pk=department.pk)
                applied = department_settings_apply(
                    locked,
                    fields=(
                        *PortalSettingsForm.BRANDING_FIELDS,
                        "listed",
                        *PortalSettingsForm.PAGE_FIELDS,
                    ),
                    changes=form.changes(),
                    languages=data["languages"],
                    terms_text=data["terms_text"],
                    logo=data["logo"],
                    logo_clear=data["logo_clear"],
                )
        except ValidationError as error:
            for field, problems in error.message_dict.items():
                form.add_error(field if field in form.fields else None, problems)
        except StorageUnavailable as failure:
            form.add_error("logo", failure.message)
            response = render(
                request,
                "department/portal_settings.html",
                {"form": form, "program": department.program},
                status=503,
            )
            response["Retry-After"] = str(STORAGE_RETRY_AFTER)
            return response
        else:
            if "terms_text" in applied.changed:
                messages.success(
                    request,
                    _(
                        "Saved. The terms are now version %(version)s: participants will be "
                        "asked to accept them at their next visit."
                    )
                    % {"version": applied.terms_version},
                )
            elif applied.changed:
                messages.success(request, _("Your portal's settings are saved."))
            else:
                messages.info(request, _("Nothing had changed; nothing was saved."))
            if "listed" in applied.changed:
                messages.info(
                    request,
                    _(
                        "Your program is now listed in the directory of participating cities "
                        "(its map shows the change within a minute)."
                    )
                    if data["listed"]
                    else _(
                        "Your program is no longer listed in the directory of participating "
                        "cities (its map shows the change within a minute)."
                    ),
                )
            return redirect("department:portal_settings")
    return render(
        request,
        "department/portal_settings.html",
        {"form": form, "program": department.program},
        status=400 if request.method == "POST" else 200,
    )
