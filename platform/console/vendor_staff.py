"""Vendor staff roles (console.models.VendorStaff): the one way a role changes, recorded in the
platform audit log."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import transaction

from console.access import vendor_can, vendor_role
from console.audit import platform_audit_record
from console.models import PlatformAuditEntry, VendorCapability, VendorRole, VendorStaff


class RoleChangeRefused(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@transaction.atomic
def vendor_role_set(*, actor: User, member: User, role: str) -> str:
    """Give vendor staff account `member` a role; returns the role it had before."""
    if not vendor_can(actor, VendorCapability.VENDOR_STAFF):
        raise PermissionDenied
    if role not in VendorRole.values:
        raise RoleChangeRefused("Choose support, billing or administrator.")
    if not member.is_staff:
        raise RoleChangeRefused(f"{member.email} is not vendor staff.")
    if member.pk == actor.pk:
        raise RoleChangeRefused("You cannot change your own role: another administrator can.")
    before = vendor_role(member) or ""
    if before == role:
        raise RoleChangeRefused(f"{member.email} is already {VendorRole(role).label.lower()}.")
    VendorStaff.objects.update_or_create(user=member, defaults={"role": role})
    platform_audit_record(
        actor=actor,
        action=PlatformAuditEntry.Action.VENDOR_ROLE_CHANGE,
        detail={"member": member.email, "from": before, "to": role},
    )
    return before
