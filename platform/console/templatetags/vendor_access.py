"""console.access.vendor_can for templates, as a tag (`{% vendor_can user "billing" as can_bill %}`)
or a filter (`user|vendor_can:"billing"`)."""

from __future__ import annotations

from django import template
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from console.access import vendor_can as vendor_can_rule

register = template.Library()


@register.simple_tag(name="vendor_can")
def vendor_can_tag(user: AbstractBaseUser | AnonymousUser, capability: str) -> bool:
    return vendor_can_rule(user, capability)


@register.filter(name="vendor_can")
def vendor_can_filter(user: AbstractBaseUser | AnonymousUser, capability: str) -> bool:
    return vendor_can_rule(user, capability)
