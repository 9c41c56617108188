"""Record the end of every vendor support session whose time is over (console.support).
Idempotent: a session's end is recorded once, whoever (this, another run, or the next request
of its browser) gets there first."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from console.support import support_sessions_expire


class Command(BaseCommand):
    help = "Record the end of vendor support sessions whose time is over."

    def handle(self, *args: Any, **options: Any) -> None:
        ended = support_sessions_expire()
        self.stdout.write(f"{ended} support session(s) ended at their time.")
