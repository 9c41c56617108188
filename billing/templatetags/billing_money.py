"""Amounts in cents shown as money: {{ plan.yearly_price|money:plan.currency }} -> $150.00."""

from __future__ import annotations

from django import template

from billing.money import money as money_text

register = template.Library()


@register.filter
def money(cents: int | None, currency: str = "usd") -> str:
    return money_text(cents, currency)
