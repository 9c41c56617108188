"""What a vendor support session may do in a city: THE rule, with the role's capabilities in
ROLE_CAPABILITIES (portal.registry.models). The vendor's console owns the sessions (public
schema); for each request it hands the city a SupportAccess, and nothing else decides."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils.translation import gettext as _

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# The city account a vendor staff member acts through in a city (one per vendor staff member,
# no usable password): "vendor-support-<vendor user id>".
SUPPORT_USERNAME_PREFIX = "vendor-support-"


@dataclass(frozen=True)
class SupportAccess:
    """A live support session, as the city sees it during one request."""

    session_id: int
    vendor_email: str
    write: bool
    expires_at: datetime


def support_username(vendor_user_id: int) -> str:
    return f"{SUPPORT_USERNAME_PREFIX}{vendor_user_id}"


def is_support_username(username: str) -> bool:
    return username.startswith(SUPPORT_USERNAME_PREFIX)


def support_refusal(access: SupportAccess | None, method: str) -> str | None:
    """Why a support identity may not make this request (None: it may). Outside a live
    session it may do nothing; a read-only session may only read (GET, HEAD); writing needs
    the department administrator's approval. What it may read is its role's capabilities."""
    if access is None:
        return _("This vendor support account can only be used during a support session.")
    if method.upper() not in SAFE_METHODS and not access.write:
        return _(
            "This support session is read-only: the department's administrator has not "
            "approved write access."
        )
    return None
