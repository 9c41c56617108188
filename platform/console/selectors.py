"""What the vendor's department page shows of a city: counts read in its own schema (never a
resident's details), its license and its platform audit entries."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q
from django_tenants.utils import tenant_context

from billing.models import License, Subscription
from console.models import PlatformAuditEntry
from portal.liveview.models import Device
from portal.registry.models import Site, SiteQuerySet, StaffMember
from tenants.models import Department


@dataclass(frozen=True)
class DepartmentFacts:
    staff: int
    sites: int
    searchable: int
    lapsed: int
    devices: int
    subscriptions_live: int
    license: License | None


def department_facts(department: Department) -> DepartmentFacts:
    """A department's counts: active staff, sites (searchable, lapsed: the registry's rules),
    paired devices not revoked, live device subscriptions, and its latest license. A department
    still being provisioned may have no schema yet: its counts are zero."""
    staff = sites = searchable = lapsed = devices = 0
    if department.status != Department.Status.PROVISIONING:
        with tenant_context(department):
            # Vendor support identities (portal.registry.support) are not the city's staff.
            staff = (
                StaffMember.objects.filter(user__is_active=True)
                .exclude(role=StaffMember.Role.SUPPORT)
                .count()
            )
            counts = Site.objects.aggregate(
                total=Count("pk"),
                searchable=Count("pk", filter=SiteQuerySet.searchable_condition()),
                lapsed=Count("pk", filter=SiteQuerySet.lapsed_condition()),
            )
            sites, searchable, lapsed = counts["total"], counts["searchable"], counts["lapsed"]
            devices = Device.objects.filter(revoked_at__isnull=True).count()
    live = Subscription.objects.filter(
        Q(department=department) & Q(status__in=Subscription.LIVE_STATUSES)
    ).count()
    license_ = License.objects.filter(department=department).order_by("-period_start", "-pk")
    return DepartmentFacts(
        staff=staff,
        sites=sites,
        searchable=searchable,
        lapsed=lapsed,
        devices=devices,
        subscriptions_live=live,
        license=license_.first(),
    )


def department_audit_entries(department: Department, limit: int = 20) -> list[PlatformAuditEntry]:
    """The latest platform audit entries about a department, newest first."""
    return list(PlatformAuditEntry.objects.filter(department=department)[:limit])
