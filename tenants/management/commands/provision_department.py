"""Onboard a department from the command line through the provisioning service."""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.management.base import BaseCommand, CommandError

from tenants.services import department_provision


class Command(BaseCommand):
    help = "Create a department with its schema, domain, branding and first administrator."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("subdomain")
        parser.add_argument("--name", required=True)
        parser.add_argument("--city", required=True)
        parser.add_argument("--state", required=True)
        parser.add_argument("--time-zone", default="America/New_York")
        parser.add_argument("--display-name", required=True)
        parser.add_argument("--center", required=True, help="latitude,longitude")
        parser.add_argument("--radius-m", type=int, default=15_000)
        parser.add_argument("--admin-email", required=True)
        parser.add_argument("--primary-color", default="#1d4ed8")
        parser.add_argument("--accent-color", default="#f59e0b")
        parser.add_argument("--languages", default="en,es")
        parser.add_argument("--logo", type=Path)
        parser.add_argument("--goal", type=int, default=0)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            latitude, longitude = (float(part) for part in options["center"].split(","))
        except ValueError as error:
            raise CommandError("--center takes latitude,longitude, e.g. 35.41,-80.58") from error
        logo = (
            File(options["logo"].open("rb"), name=options["logo"].name) if options["logo"] else None
        )
        try:
            result = department_provision(
                subdomain=options["subdomain"],
                name=options["name"],
                city=options["city"],
                state=options["state"],
                time_zone=options["time_zone"],
                display_name=options["display_name"],
                center_latitude=latitude,
                center_longitude=longitude,
                service_radius_m=options["radius_m"],
                administrator_email=options["admin_email"],
                primary_color=options["primary_color"],
                accent_color=options["accent_color"],
                languages=[code.strip() for code in options["languages"].split(",")],
                logo=logo,
                goal_camera_count=options["goal"],
            )
        except ValidationError as error:
            lines = [
                f"{field}: {' '.join(messages)}" for field, messages in error.message_dict.items()
            ]
            raise CommandError("Nothing was created.\n" + "\n".join(lines)) from error
        finally:
            if logo is not None:
                logo.close()
        verb = "Created" if result.created else "Updated"
        self.stdout.write(self.style.SUCCESS(f"{verb} {result.department} at {result.domain}"))
        if result.administrator_invited:
            self.stdout.write(
                f"Invited the administrator {result.administrator.email}: they choose their "
                "password from the link emailed to them and set up a second factor."
            )
