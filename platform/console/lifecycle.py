"""The department lifecycle, as vendor staff run it from the console: edit, add and remove
addresses, suspend, reactivate, delete. One transaction each, each recorded in the platform
audit log (console.audit), each safe against a second submit of the same form.

The rules these apply live below: host names a department may add and the schema's drop in
tenants.lifecycle, the terms version in tenants.models.Program.terms_set, a department's files
in portal.registry.storage, what still bills in billing.models."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django_tenants.utils import tenant_context

from billing.models import License, Subscription
from console.audit import platform_audit_record
from console.models import PlatformAuditEntry
from tenants.lifecycle import (
    custom_domain_validate,
    department_schema_drop,
    department_settings_apply,
    department_suspended,
)
from tenants.models import Department, Domain
from tenants.services import department_hostname
from tenants.storage import department_files_delete, new_files_discarded_on_failure

logger = logging.getLogger(__name__)
Action = PlatformAuditEntry.Action

# What vendor staff may change on a department; the subdomain (its schema) is fixed for life.
# `listed`: whether the platform site's directory of participating cities shows it.
DEPARTMENT_FIELDS = ("name", "city", "state", "time_zone", "listed")
BRANDING_FIELDS = ("display_name", "primary_color", "accent_color", "welcome_en", "welcome_es")
PROGRAM_FIELDS = (
    "center_latitude",
    "center_longitude",
    "service_radius_m",
    "goal_camera_count",
    "verification_notice_days",
    "verification_grace_days",
    "purge_after_days",
    "search_radius_max_m",
    "live_grant_minutes",
    "device_offline_minutes",
)


class LifecycleRefused(Exception):
    """An action that cannot be done as asked, with the reason to show; nothing was changed."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _locked(department: Department) -> Department:
    """The department's row, locked to the end of the transaction (two vendor staff acting on
    one department wait for each other); LifecycleRefused when it is gone meanwhile."""
    found = Department.objects.select_for_update().filter(pk=department.pk).first()
    if found is None:
        raise LifecycleRefused(f"{department.name} no longer exists.")
    return found


def department_edit(
    *,
    actor: AbstractBaseUser,
    department: Department,
    changes: dict[str, Any],
    languages: list[str] | None = None,
    terms_text: str | None = None,
    logo: File | None = None,
    logo_clear: bool = False,
) -> list[str]:
    """Change a department's names, place, time zone, branding and programme settings
    (tenants.lifecycle.department_settings_apply: everything checked before anything is
    written; a new terms text is a new terms version). Returns the names of the fields that
    changed: none for a second submit of the same form, which records nothing. A new logo is
    stored first (StorageUnavailable when the storage cannot keep it, nothing written) and
    deleted again if the transaction fails."""
    with new_files_discarded_on_failure(), transaction.atomic():
        department = _locked(department)
        applied = department_settings_apply(
            department,
            fields=DEPARTMENT_FIELDS + BRANDING_FIELDS + PROGRAM_FIELDS,
            changes=changes,
            languages=languages,
            terms_text=terms_text,
            logo=logo,
            logo_clear=logo_clear,
        )
        if applied.changed:
            detail: dict[str, Any] = {"changed": applied.changed}
            if "terms_text" in applied.changed:
                detail["terms_version"] = applied.terms_version
            platform_audit_record(
                actor=actor, action=Action.DEPARTMENT_EDIT, department=department, detail=detail
            )
    return applied.changed


def domain_add(
    *, actor: AbstractBaseUser, department: Department, hostname: str, primary: bool = False
) -> Domain:
    """Add an address (a custom domain, or a name under the base domain) to a department; as
    its primary address when asked (the one emails link to). A ValidationError says why not."""
    with transaction.atomic():
        department = _locked(department)
        try:
            hostname = custom_domain_validate(hostname, department=department)
        except ValidationError as error:
            raise ValidationError({"hostname": error.messages}) from error
        domain = Domain(domain=hostname, tenant=department, is_primary=primary)
        domain.save()  # django-tenants' save leaves one primary per department
        platform_audit_record(
            actor=actor,
            action=Action.DOMAIN_ADD,
            department=department,
            detail={"domain": hostname, "primary": domain.is_primary},
        )
    return domain


def domain_primary_set(
    *, actor: AbstractBaseUser, department: Department, domain_id: int
) -> Domain:
    """Make one of a department's addresses its primary one."""
    with transaction.atomic():
        department = _locked(department)
        domain = Domain.objects.filter(pk=domain_id, tenant=department).first()
        if domain is None:
            raise LifecycleRefused("That address is not one of this department's (any more).")
        if domain.is_primary:
            raise LifecycleRefused(f"{domain.domain} is already the primary address.")
        domain.is_primary = True
        domain.save()
        platform_audit_record(
            actor=actor,
            action=Action.DEPARTMENT_EDIT,
            department=department,
            detail={"changed": ["primary_domain"], "domain": domain.domain},
        )
    return domain


def domain_remove(*, actor: AbstractBaseUser, department: Department, domain_id: int) -> str:
    """Remove one of a department's addresses: never its primary one, nor its own subdomain
    (SUBDOMAIN.base, which it keeps for life). Returns the host name removed."""
    with transaction.atomic():
        department = _locked(department)
        domain = Domain.objects.filter(pk=domain_id, tenant=department).first()
        if domain is None:
            raise LifecycleRefused("That address is not one of this department's (any more).")
        if domain.is_primary:
            raise LifecycleRefused(
                f"{domain.domain} is the primary address; make another address primary first."
            )
        if domain.domain == department_hostname(department.schema_name.replace("_", "-")):
            raise LifecycleRefused(f"{domain.domain} is the department's own subdomain.")
        hostname = domain.domain
        domain.delete()
        platform_audit_record(
            actor=actor,
            action=Action.DOMAIN_REMOVE,
            department=department,
            detail={"domain": hostname},
        )
    return hostname


def department_suspend(*, actor: AbstractBaseUser, department: Department, reason: str) -> None:
    """Close a department's portal: it shows a notice, sign-ins and the device and media APIs are
    refused (tenants.middleware, portal.liveview.media_views), its scheduled jobs skip it
    (Department.objects.serving()), open live views end; every row and file is kept."""
    reason = reason.strip()
    if not reason:
        raise LifecycleRefused("Give the reason for the suspension; it is kept in the audit log.")
    with transaction.atomic():
        department = _locked(department)
        if department.status == Department.Status.SUSPENDED:
            raise LifecycleRefused(f"{department.name} is already suspended.")
        if department.status != Department.Status.ACTIVE:
            raise LifecycleRefused(f"{department.name} is still being provisioned.")
        department.status = Department.Status.SUSPENDED
        department.save(update_fields=["status"])
        with tenant_context(department):
            department_suspended.send(sender=Department, department=department)
        platform_audit_record(
            actor=actor,
            action=Action.DEPARTMENT_SUSPEND,
            department=department,
            detail={"reason": reason},
        )


def department_reactivate(*, actor: AbstractBaseUser, department: Department) -> None:
    """Open a suspended department's portal again; its jobs run again from their next turn."""
    with transaction.atomic():
        department = _locked(department)
        if department.status != Department.Status.SUSPENDED:
            raise LifecycleRefused(f"{department.name} is not suspended.")
        department.status = Department.Status.ACTIVE
        department.save(update_fields=["status"])
        platform_audit_record(
            actor=actor, action=Action.DEPARTMENT_REACTIVATE, department=department
        )


@dataclass(frozen=True)
class Deleted:
    name: str
    schema_name: str
    files: int


def billing_holds(department: Department) -> list[str]:
    """What still bills a department and so stands in the way of deleting it: device
    subscriptions not ended (cancel them in the billing console) and licenses still owed."""
    now = timezone.now()
    subscriptions = (
        Subscription.objects.filter(department=department)
        .exclude(status__in=Subscription.ENDED_STATUSES)
        .exclude(
            Q(status=Subscription.Status.CHECKOUT)
            & (Q(checkout_expires_at__lte=now) | Q(checkout_expires_at__isnull=True))
        )
        .count()
    )
    licenses = License.objects.filter(
        department=department, status__in=[License.Status.OPEN, License.Status.OVERDUE]
    ).count()
    holds = []
    if subscriptions:
        holds.append(f"{subscriptions} device subscription(s) still running")
    if licenses:
        holds.append(f"{licenses} license invoice(s) still unpaid")
    return holds


def department_delete(
    *, actor: AbstractBaseUser, department: Department, confirmation: str
) -> Deleted:
    """Delete a department for good: its schema (every account, registration, audit entry),
    its files, its addresses, branding and programme, and the local billing records. Stripe
    keeps its customers, subscriptions and invoices; the platform audit log keeps the
    department's name and subdomain. `confirmation` must be the subdomain, typed exactly."""
    subdomain = department.schema_name.replace("_", "-")
    if confirmation.strip() != subdomain:
        raise LifecycleRefused(
            f"The confirmation “{confirmation.strip()}” does not match the subdomain "
            f"“{subdomain}”; nothing was deleted."
        )
    with transaction.atomic():
        department = _locked(department)
        holds = billing_holds(department)
        if holds:
            raise LifecycleRefused(
                f"{department.name} cannot be deleted while it is billed: {'; '.join(holds)}. "
                "Cancel them in the billing console first; nothing was deleted."
            )
        name, schema_name = department.name, department.schema_name
        customers = list(department.customers.values_list("stripe_customer_id", flat=True))
        # Local billing records (Stripe keeps the originals), then the department's rows.
        for model in (Subscription, License):
            model.objects.filter(department=department).delete()
        department.invoices.all().delete()
        department.customers.all().delete()
        # The entry first, naming the department, while its row still exists; the row's delete
        # then leaves the entry's reference empty and its name and subdomain as text.
        platform_audit_record(
            actor=actor,
            action=Action.DEPARTMENT_DELETE,
            department=department,
            detail={"subdomain": subdomain, "stripe_customers": customers},
        )
        department.domains.all().delete()
        Department.objects.filter(pk=department.pk).delete()
        # Last, as the owner (it commits at once): a failure before here rolls everything back.
        department_schema_drop(schema_name)
    try:
        files = department_files_delete(schema_name)
    except OSError:
        logger.exception("department %s deleted; some of its files were not", schema_name)
        files = -1
    return Deleted(name=name, schema_name=schema_name, files=files)
