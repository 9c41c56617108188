"""How django-allauth behaves on the platform site and on department portals."""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        # Vendor staff and department administrators are created by provisioning; resident
        # self-registration opens with the resident registry.
        return False
