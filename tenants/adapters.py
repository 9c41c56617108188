"""How django-allauth behaves on the platform site and on department portals."""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from django.db import connection
from django.http import HttpRequest
from django.utils.encoding import force_str


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        # Residents sign up on their city's portal; vendor staff are never self-made.
        tenant = getattr(request, "tenant", None)
        return tenant is not None and not tenant.is_platform

    def format_email_subject(self, subject: str) -> str:
        """Prefix account emails with the program's name instead of the bare host name."""
        tenant = getattr(connection, "tenant", None)
        branding = getattr(tenant, "branding", None)
        return f"[{branding.display_name if branding else 'Canvass'}] {force_str(subject)}"
