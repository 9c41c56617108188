"""Template context for every page: the department the request is for and its branding."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.http import HttpRequest
from django.utils.translation import get_language

from tenants.models import LANGUAGE_CHOICES
from tenants.units import units_of


def department(request: HttpRequest) -> dict[str, Any]:
    tenant = getattr(request, "tenant", None)
    if tenant is None or tenant.is_platform:
        return {"department": None, "branding": None, "base_template": "console/base.html"}
    branding = getattr(tenant, "branding", None)

    def layout() -> str:
        """The staff console's layout for a signed-in staff member, the portal's otherwise;
        a callable, so that the staff lookup runs only on the pages that extend it (allauth's
        pages, the unlock page)."""
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            try:
                user.staff  # noqa: B018 (the lookup is the test)
            except ObjectDoesNotExist:
                return "portal/base.html"
            return "department/base.html"
        return "portal/base.html"

    enabled = branding.languages if branding else [settings.LANGUAGE_CODE]
    return {
        "department": tenant,
        "branding": branding,
        "program": getattr(tenant, "program", None),
        "distance_units": units_of(getattr(tenant, "program", None)),
        "welcome_text": branding.welcome_text(get_language()) if branding else "",
        "portal_languages": [(code, label) for code, label in LANGUAGE_CHOICES if code in enabled],
        "base_template": layout,
    }
