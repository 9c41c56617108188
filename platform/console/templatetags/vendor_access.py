"""{% vendor_can user "billing" as can_bill %}: console.access.vendor_can for templates."""

from __future__ import annotations

from django import template
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from console.access import vendor_can as _vendor_can

register = template.Library()


@register.simple_tag
def vendor_can(user: AbstractBaseUser | AnonymousUser, capability: str) -> bool:
    return _vendor_can(user, capability)
