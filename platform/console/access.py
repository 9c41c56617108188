"""Who among vendor staff may do what: THE rule (roles in console.models)."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from console.models import VENDOR_ROLE_CAPABILITIES, VendorRole, VendorStaff


def vendor_role(user: AbstractBaseUser | AnonymousUser) -> str | None:
    """The vendor role of an account in the public schema; None for anyone not vendor staff.
    Staff accounts with no role recorded: a superuser is an administrator, others support."""
    if not user.is_authenticated or not getattr(user, "is_staff", False):
        return None
    # A missing reverse one-to-one raises an AttributeError subclass: getattr's default.
    recorded: VendorStaff | None = getattr(user, "vendor_staff", None)
    if recorded is not None:
        return str(recorded.role)
    return VendorRole.ADMINISTRATOR if getattr(user, "is_superuser", False) else VendorRole.SUPPORT


def vendor_can(user: AbstractBaseUser | AnonymousUser, capability: str) -> bool:
    role = vendor_role(user)
    return role is not None and capability in VENDOR_ROLE_CAPABILITIES[role]
