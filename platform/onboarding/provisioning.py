"""Provisioning a department from an approved program request, in one step and all or nothing:
the department (its cloned schema, domain, branding, program, first administrator invited), its
license as a draft invoice for vendor staff to send, the request made live, its history, the
platform audit log and the requester's welcome email. Any failure leaves none of it behind and
says why in the request's history."""

from __future__ import annotations

import functools
import statistics
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import zipcodes
from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse

from billing.gateway import payments_configured
from billing.license_pricing import license_tier_for
from billing.licenses import license_draft, license_draft_discard, license_terms_problems
from billing.models import License
from console.audit import platform_audit_record
from console.models import PlatformAuditEntry
from onboarding.emails import requester_email
from onboarding.models import ProgramRequest, ProgramRequestEvent
from tenants.models import Department
from tenants.services import (
    Provisioned,
    department_provision,
    schema_drop_if_created_apart,
    taken_meanwhile,
)
from tenants.storage import new_files_discarded_on_failure

# A city's service area when staff do not change it: most US cities fit in 8 km of their centre.
SERVICE_RADIUS_DEFAULT_M = 8_000
NO_LICENSE = "No license invoice: payments are not configured on this installation."

Status = ProgramRequest.Status
Kind = ProgramRequestEvent.Kind


@functools.cache
def _zip_centroids() -> dict[tuple[str, str], list[tuple[float, float]]]:
    """Every US ZIP code's centroid by (state, city in lower case), read once per process from
    the zipcodes package's bundled data (no network)."""
    index: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for entry in zipcodes.list_all():
        try:
            point = (float(entry["lat"]), float(entry["long"]))
        except (KeyError, TypeError, ValueError):
            continue
        index.setdefault((entry["state"], entry["city"].casefold()), []).append(point)
    return index


def city_centre(*, city: str, state: str) -> tuple[float, float] | None:
    """The average of the city's ZIP code centroids, or None for a city the data does not
    know (staff then type the centre)."""
    points = _zip_centroids().get((state.strip().upper(), city.strip().casefold()))
    if not points:
        return None
    return (
        round(statistics.fmean(point[0] for point in points), 4),
        round(statistics.fmean(point[1] for point in points), 4),
    )


def provision_initial(program_request: ProgramRequest) -> dict[str, Any]:
    """The provisioning form's starting values, from what the department asked for."""
    initial: dict[str, Any] = {
        "subdomain": program_request.subdomain,
        "name": program_request.agency_name,
        "city": program_request.city,
        "state": program_request.state,
        "time_zone": program_request.time_zone,
        "display_name": f"{program_request.city} Community Camera Registry",
        "service_radius_m": SERVICE_RADIUS_DEFAULT_M,
        "goal_camera_count": program_request.expected_cameras,
        "administrator_email": program_request.contact_email,
        "languages": ["en", "es"],
        "amount": license_tier_for(program_request.expected_cameras).yearly_amount / 100,
        "period_start": datetime.now(ZoneInfo(program_request.time_zone)).date(),
        "po_number": "",
        "contract": (
            program_request.purchasing_note
            if program_request.purchasing == ProgramRequest.Purchasing.COOPERATIVE
            else ""
        ),
    }
    centre = city_centre(city=program_request.city, state=program_request.state)
    if centre is not None:
        initial["center_latitude"], initial["center_longitude"] = centre
    return initial


class RequestNotProvisionable(Exception):
    """The request is not (or no longer) approved: nothing was done. `department` is set when
    it was provisioned already."""

    def __init__(self, program_request: ProgramRequest) -> None:
        self.program_request = program_request
        self.department: Department | None = (
            program_request.department if program_request.status == Status.PROVISIONED else None
        )
        if self.department is not None:
            message = f"This request was provisioned already: {self.department.name} is live."
        else:
            message = (
                f"Only an approved request can be provisioned; this one is "
                f"{program_request.get_status_display().lower()}."
            )
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class RequestProvisioned:
    program_request: ProgramRequest
    provisioned: Provisioned
    # The draft license invoice; None when payments are not configured (license_note says so).
    license: License | None
    license_note: str


def program_request_provision(
    *,
    program_request: ProgramRequest,
    actor: User,
    department_fields: Mapping[str, Any],
    license_amount: int,
    license_period_start: date,
    po_number: str = "",
    contract: str = "",
) -> RequestProvisioned:
    """Provision the department an approved request asked for, with `department_fields` as
    tenants.services.department_provision takes them (edited by vendor staff), and its license
    as a draft invoice (billing.licenses.license_draft) unless payments are not configured
    (then the department goes live without one and the history says so).

    One transaction, the request's row locked throughout: a second call finds it provisioned
    (RequestNotProvisionable). On any failure nothing is left: no department, schema, domain,
    license or email, a Stripe draft already made is deleted (best effort), the request stays
    approved, and the error is raised again. A refusal of the input (ValidationError: a
    subdomain taken meanwhile, a bad colour) writes nothing else either, like any refused form;
    any other failure (Stripe, the database, a bug) is told in a FAILED line of the request's
    history, written after the rollback."""
    actor_email = getattr(actor, "email", "") or ""
    with_license = payments_configured()
    problems = license_terms_problems(
        amount=license_amount,
        currency="usd",
        po_number=po_number,
        contract=contract,
        po_required=False,
    )
    if with_license and problems:
        # The terms alone are wrong: refused before anything, like the department's own fields.
        raise ValidationError(problems)
    created: list[Department] = []
    drafts: list[str] = []
    try:
        # A logo stored by the provisioning is deleted again if this transaction rolls back.
        with new_files_discarded_on_failure(), transaction.atomic():
            locked = (
                ProgramRequest.objects.select_for_update(of=("self",))
                .select_related("department")
                .get(pk=program_request.pk)
            )
            if locked.status != Status.APPROVED:
                raise RequestNotProvisionable(locked)
            provisioned = department_provision(**department_fields)
            if not provisioned.created:
                # department_provision updates a department of the same subdomain and name:
                # a request never takes over an existing one (its changes roll back).
                raise taken_meanwhile(provisioned.department.schema_name.replace("_", "-"))
            created.append(provisioned.department)
            department = provisioned.department
            license_: License | None = None
            if with_license:
                license_ = license_draft(
                    actor_email=actor_email,
                    department=department,
                    period_start=license_period_start,
                    amount=license_amount,
                    po_number=po_number,
                    contract=contract,
                )
                drafts.append(str(license_.stripe_invoice_id))
            license_note = (
                f"Draft license invoice of ${license_.amount / 100:,.2f} to send from the "
                "licenses page."
                if license_ is not None
                else NO_LICENSE
            )
            _request_made_live(
                locked,
                actor=actor,
                provisioned=provisioned,
                license_=license_,
                license_note=license_note,
            )
    except (RequestNotProvisionable, ValidationError):
        # Input staff correct on the form (a subdomain taken meanwhile, a colour): refused
        # with nothing written, like any form; the page shows why, field by field.
        for department in created:
            schema_drop_if_created_apart(department)
        for draft_id in drafts:
            license_draft_discard(draft_id)
        raise
    except Exception as error:
        for department in created:
            # A schema migrated rather than cloned was committed apart: drop it too.
            schema_drop_if_created_apart(department)
        for draft_id in drafts:
            license_draft_discard(draft_id)
        _failure_record(program_request, actor=actor, error=error)
        raise
    program_request.refresh_from_db()
    return RequestProvisioned(program_request, provisioned, license_, license_note)


def _request_made_live(
    program_request: ProgramRequest,
    *,
    actor: User,
    provisioned: Provisioned,
    license_: License | None,
    license_note: str,
) -> None:
    """The request's last step, inside the provisioning's transaction: live, its history, the
    platform audit log and the welcome email (sent when everything commits)."""
    department, domain = provisioned.department, provisioned.domain
    previous = program_request.status
    program_request.status = Status.PROVISIONED
    program_request.department = department
    program_request.save(update_fields=["status", "department", "updated_at"])
    ProgramRequestEvent.objects.create(
        request=program_request,
        actor=actor,
        kind=Kind.PROVISIONED,
        from_status=previous,
        to_status=Status.PROVISIONED,
        text=f"{department.name} is live at {domain.domain}; "
        f"{provisioned.administrator.email} invited. {license_note}",
    )
    platform_audit_record(
        actor=actor,
        action=PlatformAuditEntry.Action.DEPARTMENT_CREATE,
        department=department,
        detail={
            "domain": domain.domain,
            "administrator": provisioned.administrator.email,
            "program_request": program_request.pk,
        },
    )
    platform_audit_record(
        actor=actor,
        action=PlatformAuditEntry.Action.PROGRAM_REQUEST,
        department=department,
        detail={
            "what": "provisioned",
            "program_request": program_request.pk,
            "license": license_.pk if license_ is not None else None,
        },
    )

    def console(name: str) -> str:
        return department.url(reverse(f"department:{name}", urlconf=settings.ROOT_URLCONF))

    requester_email(
        program_request,
        "welcome",
        department=department,
        portal_url=department.url("/"),
        console_url=console("home"),
        branding_url=console("portal_settings"),
        staff_url=console("staff"),
        import_url=console("import"),
        administrator_email=provisioned.administrator.email,
    )


def _failure_record(program_request: ProgramRequest, *, actor: User, error: Exception) -> None:
    """After the rollback, in a transaction of its own: why provisioning failed."""
    # The gateway's errors carry a message for people; anything else is named.
    reason = str(getattr(error, "message", "") or error) or type(error).__name__
    with transaction.atomic():
        ProgramRequestEvent.objects.create(
            request_id=program_request.pk,
            actor=actor,
            kind=Kind.FAILED,
            text=f"Provisioning failed, nothing was created: {reason}",
        )
