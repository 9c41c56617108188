"""Create the demo departments and accounts, and print how to sign in."""

from __future__ import annotations

from typing import Any

from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.management.base import BaseCommand
from django_tenants.utils import schema_context, tenant_context

from tenants.demo import (
    DEMO_CITIES,
    DEMO_SEEDERS,
    DEMO_TOTP_SECRET,
    VENDOR_EMAIL,
    VENDOR_PASSWORD,
    demo_administrator_email,
    demo_administrator_password,
    demo_city_provision,
    vendor_billing_grant,
)
from tenants.services import department_hostname, platform_site_ensure, staff_account_ensure


class Command(BaseCommand):
    help = "Create Concord, Carrollton and Little Rock with demo accounts; safe to run again."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--port", default="8000", help="the port shown in the printed URLs")

    def handle(self, *args: Any, **options: Any) -> None:
        port = options["port"]
        platform = platform_site_ensure()
        with schema_context(platform.schema_name):
            vendor = self._password_reset(VENDOR_EMAIL, VENDOR_PASSWORD)
            if not Authenticator.objects.filter(user=vendor, type=Authenticator.Type.TOTP).exists():
                TOTP.activate(vendor, DEMO_TOTP_SECRET)
            vendor_billing_grant(vendor)
        lines = [
            "",
            "Canvass demo",
            f"  Platform     http://{settings.PLATFORM_DOMAINS[0]}:{port}/console/",
            f"               vendor staff: {VENDOR_EMAIL} / {VENDOR_PASSWORD}",
            f"               one-time codes: authenticator app with the secret {DEMO_TOTP_SECRET}",
            f"  Billing      http://{settings.PLATFORM_DOMAINS[0]}:{port}/console/billing/",
            "               payments: "
            + (
                "Stripe (STRIPE_SECRET_KEY is set)"
                if settings.STRIPE_SECRET_KEY
                else "off (no STRIPE_SECRET_KEY): the consoles show the demo's subscriptions, "
                "and checkout says payments are not configured here"
            ),
        ]
        for city in DEMO_CITIES:
            result = demo_city_provision(city)
            email, password = demo_administrator_email(city), demo_administrator_password(city)
            lines += [
                f"  {city.city:<12} http://{department_hostname(city.subdomain)}:{port}/",
                f"               administrator: {email} / {password}",
            ]
            with tenant_context(result.department):
                self._password_reset(email, password)
                for seed in DEMO_SEEDERS:
                    lines += [f"               {line}" for line in seed(result.department)]
        self.stdout.write(self.style.SUCCESS("\n".join(lines)) + "\n")

    @staticmethod
    def _password_reset(email: str, password: str) -> AbstractUser:
        """Demo accounts always sign in with the printed password, even if someone changed it."""
        user, _created = staff_account_ensure(email=email, password=password)
        user.set_password(password)
        user.save(update_fields=["password"])
        return user
