"""What the platform site's pages show of the settings: the source and the security contact."""

from __future__ import annotations

from django import template
from django.conf import settings

register = template.Library()


@register.simple_tag
def source_url() -> str:
    return str(settings.CANVASS_SOURCE_URL)


@register.simple_tag
def security_contact() -> str:
    return str(settings.SECURITY_CONTACT_EMAIL)
