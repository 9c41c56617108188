"""The demo's transparency pages: figures computed once when the demo is set up, so the page
shows the demo's history at once (the hourly job keeps them current while the demo runs)."""

from __future__ import annotations

from django.utils import timezone

from portal.transparency.services import figures_refresh
from tenants.models import Department


def transparency_seed(department: Department) -> list[str]:
    figures_refresh(department=department, now=timezone.now())
    return [f"transparency: {department.url('/transparency/')} (public, no sign-in)"]
