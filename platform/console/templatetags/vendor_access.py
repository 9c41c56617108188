"""What the signed-in vendor staff member may do, for templates: `user|vendor_can:"..."`."""

from __future__ import annotations

from django import template
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from console.access import vendor_can as vendor_can_rule

register = template.Library()


@register.filter
def vendor_can(user: AbstractBaseUser | AnonymousUser, capability: str) -> bool:
    return vendor_can_rule(user, capability)
