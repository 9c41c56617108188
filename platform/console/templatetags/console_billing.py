"""Amounts in the billing console: cents shown as money, the one format (billing.actions.money)."""

from __future__ import annotations

from django import template

from billing.actions import money as money_format

register = template.Library()


@register.filter
def money(amount: int | None, currency: str) -> str:
    return "—" if amount is None else money_format(amount, currency)
