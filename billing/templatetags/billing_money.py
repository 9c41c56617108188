"""Amounts in cents shown as money: {{ plan.yearly_price|money:plan.currency }} -> $150.00."""

from __future__ import annotations

from django import template

register = template.Library()
SYMBOLS = {"usd": "$"}


@register.filter
def money(cents: int | None, currency: str = "usd") -> str:
    if cents is None:
        return ""
    amount = f"{cents / 100:,.2f}"
    symbol = SYMBOLS.get((currency or "").lower())
    return f"{symbol}{amount}" if symbol else f"{amount} {(currency or '').upper()}"
