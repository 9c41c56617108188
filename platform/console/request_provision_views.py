"""Provisioning a department from an approved program request: the onboarding form pre-filled
from the request, every field editable, then onboarding.provisioning does everything in one
step. Vendor staff whose role manages departments (console.access)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods
from onboarding.models import ProgramRequest
from onboarding.provisioning import (
    NO_LICENSE,
    RequestNotProvisionable,
    program_request_provision,
    provision_initial,
)

from billing.gateway import PaymentsNotConfigured, StripeRefused, StripeUnavailable
from billing.gateway import payments_configured as payments_on
from console.department_views import VendorRequest
from console.models import VendorCapability
from console.provision_forms import ProvisionForm
from console.views import vendor_capability_required
from tenants.storage import STORAGE_RETRY_AFTER, StorageUnavailable

TEMPLATE = "console/requests/provision.html"


def request_back_url(program_request: ProgramRequest) -> str:
    """The request's own page in the queue."""
    return reverse("console:program_request", args=[program_request.pk])


@require_http_methods(["GET", "HEAD", "POST"])
@vendor_capability_required(VendorCapability.DEPARTMENTS_MANAGE)
def program_request_provision_view(request: VendorRequest, request_id: int) -> HttpResponse:
    program_request = get_object_or_404(
        ProgramRequest.objects.select_related("department"), pk=request_id
    )
    context = {
        "program_request": program_request,
        "back_url": request_back_url(program_request),
        "base_domain": settings.CANVASS_BASE_DOMAIN,
        "payments_configured": payments_on(),
        "no_license": NO_LICENSE,
    }
    if program_request.status != ProgramRequest.Status.APPROVED:
        refusal = RequestNotProvisionable(program_request)
        provisioned_view = request.method != "POST" and refusal.department is not None
        return render(
            request,
            TEMPLATE,
            context | {"refusal": refusal},
            # Showing a live request's department is fine; asking to provision it again is not.
            status=200 if provisioned_view else 409,
        )
    form = ProvisionForm(
        request.POST or None, request.FILES or None, initial=provision_initial(program_request)
    )
    if request.method == "POST" and form.is_valid():
        try:
            result = program_request_provision(
                program_request=program_request,
                actor=request.user,
                department_fields=form.department_fields(),
                **form.license_fields(),
            )
        except RequestNotProvisionable as refusal:
            # Another click provisioned (or someone declined) it meanwhile.
            return render(request, TEMPLATE, context | {"refusal": refusal}, status=409)
        except ValidationError as error:
            for field, problems in error.message_dict.items():
                form.add_error(field if field in form.fields else None, problems)
        except (PaymentsNotConfigured, StripeUnavailable, StripeRefused) as error:
            form.add_error(
                None,
                f"The license's draft invoice could not be made ({error.message}). "
                "Nothing was created; the request is still approved.",
            )
        except StorageUnavailable as failure:
            # The logo could not be stored: nothing was created (never a 500).
            form.add_error(None, f"{failure.message} The request is still approved.")
            response = render(request, TEMPLATE, context | {"form": form}, status=503)
            response["Retry-After"] = str(STORAGE_RETRY_AFTER)
            return response
        else:
            provisioned = result.provisioned
            messages.success(
                request,
                f"{provisioned.department.name} is live at {provisioned.domain.domain}. "
                f"{provisioned.administrator.email} was invited to choose a password; "
                f"{program_request.contact_email} was sent the welcome email.",
            )
            if result.license is None:
                messages.warning(request, result.license_note)
            else:
                messages.info(request, result.license_note)
            return redirect("console:program_request_provision", request_id=program_request.pk)
    return render(request, TEMPLATE, context | {"form": form}, status=400 if form.is_bound else 200)
