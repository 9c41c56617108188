"""Amounts in a currency's smallest unit (what Stripe and our models keep), written the way the
reader's language writes them in the United States: the one format for every page and message."""

from __future__ import annotations

from babel.numbers import format_currency
from django.utils.translation import get_language


def money(cents: int | None, currency: str = "usd") -> str:
    """$7,200.00 in English and in Spanish; other currencies by their symbol; "" for None."""
    if cents is None:
        return ""
    locale = "es_US" if (get_language() or "en").startswith("es") else "en_US"
    return format_currency(cents / 100, (currency or "usd").upper(), locale=locale)
