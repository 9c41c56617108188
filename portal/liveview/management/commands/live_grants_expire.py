"""End the live-view grants past their expiry in every department; a scheduler runs it every
minute (the relay's checks end a watched grant at once; this records the rest)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone
from django_tenants.utils import tenant_context

from portal.liveview.services import grants_expire
from tenants.models import Department


class Command(BaseCommand):
    help = (
        "End every open live-view grant past its expiry, with its stop entry in the audit "
        "trail, in every department. Safe to run at any time and as often as wanted."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        for department in Department.objects.cities().select_related("program"):
            with tenant_context(department):
                ended = grants_expire(now=now)
            if ended:
                self.stdout.write(f"{department.schema_name}: {ended} grants ended")
