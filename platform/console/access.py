"""Who among vendor staff may do what: THE rule (roles in console.models)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User

from console.models import VENDOR_ROLE_CAPABILITIES, VendorCapability, VendorRole, VendorStaff

# Before vendor roles, billing staff were given this permission; it still makes a billing role.
LEGACY_BILLING_PERMISSION = "billing.run_billing"


def vendor_role(user: AbstractBaseUser | AnonymousUser) -> str | None:
    """The vendor role of an account in the public schema; None for anyone not vendor staff.
    Staff accounts with no role recorded: a superuser is an administrator, an account given
    the older billing.run_billing permission billing, others support."""
    if not isinstance(user, User) or not user.is_authenticated or not user.is_staff:
        return None
    try:
        return str(user.vendor_staff.role)
    except VendorStaff.DoesNotExist:
        if user.is_superuser:
            return VendorRole.ADMINISTRATOR
        if user.pk is not None and user.has_perm(LEGACY_BILLING_PERMISSION):
            return VendorRole.BILLING
        return VendorRole.SUPPORT


def vendor_can(user: AbstractBaseUser | AnonymousUser, capability: str) -> bool:
    role = vendor_role(user)
    return role is not None and capability in VENDOR_ROLE_CAPABILITIES[role]


def billing_staff_emails() -> list[str]:
    """The active vendor staff whose role runs billing (billing.licenses asks, through the hook
    ConsoleConfig.ready registers), in the public schema."""
    users = get_user_model().objects.filter(is_active=True, is_staff=True)
    return [
        user.email
        for user in users.select_related("vendor_staff").order_by("email")
        if user.email and vendor_can(user, VendorCapability.BILLING)
    ]
