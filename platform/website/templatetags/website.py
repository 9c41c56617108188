"""The platform site's template helpers: the source and security contact from the settings,
and counts written the way amounts are."""

from __future__ import annotations

from babel.numbers import format_decimal
from django import template
from django.conf import settings
from django.utils.translation import get_language

register = template.Library()


@register.simple_tag
def source_url() -> str:
    return str(settings.CANVASS_SOURCE_URL)


@register.simple_tag
def security_contact() -> str:
    return str(settings.SECURITY_CONTACT_EMAIL)


@register.filter
def number(value: int) -> str:
    """2,500 in English and in Spanish, as billing.money writes amounts (United States usage)."""
    locale = "es_US" if (get_language() or "en").startswith("es") else "en_US"
    return str(format_decimal(value, locale=locale))
