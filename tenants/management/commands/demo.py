"""Create the demo departments and accounts, and print how to sign in."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.management.base import BaseCommand
from django_tenants.utils import schema_context, tenant_context

from tenants.demo import (
    DEMO_CITIES,
    DEMO_PLATFORM_SEEDERS,
    DEMO_SEEDERS,
    DEMO_SERVICES,
    DEMO_TOTP_SECRET,
    VENDOR_EMAIL,
    VENDOR_PASSWORD,
    DemoProcess,
    demo_administrator_email,
    demo_administrator_password,
    demo_city_provision,
    vendor_billing_grant,
)
from tenants.scheduling import broker_configured, scheduler_start
from tenants.services import department_hostname, platform_site_ensure, staff_account_ensure

# The loggers of the scheduled jobs (and of kombu's in-memory transport under them).
JOB_LOGGERS = (
    "tenants.tasks",
    "portal.registry.tasks",
    "portal.liveview.tasks",
    "billing.tasks",
    "billing.reconcile",
    "console.tasks",
    "canvass.celery",
    "celery",
    "kombu",
)


class Command(BaseCommand):
    help = "Create Concord, Carrollton and Little Rock with demo accounts; safe to run again."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--port", default="8000", help="the port shown in the printed URLs")
        parser.add_argument(
            "--serve",
            action="store_true",
            help="then serve the demo on the port with everything it runs beside the web server "
            "(the media relay, simulated bridges), and stop them all on Ctrl-C",
        )

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
            f"  Platform     http://{settings.PLATFORM_DOMAINS[0]}:{port}/  (the public site, the "
            "directory of cities at /cities/, program requests at /request/)",
            f"  Console      http://{settings.PLATFORM_DOMAINS[0]}:{port}/console/",
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
        with schema_context(platform.schema_name):
            for platform_seed in DEMO_PLATFORM_SEEDERS:
                lines += [f"               {line}" for line in platform_seed()]
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
        if not options["serve"]:
            self.stdout.write(self.style.SUCCESS("\n".join(lines)) + "\n")
            return
        self._serve(int(port), lines)

    @staticmethod
    def _password_reset(email: str, password: str) -> AbstractUser:
        """Demo accounts always sign in with the printed password, even if someone changed it."""
        user, _created = staff_account_ensure(email=email, password=password)
        user.set_password(password)
        user.save(update_fields=["password"])
        return user

    def _serve(self, port: int, lines: list[str]) -> None:
        """Run the web server and every feature's demo processes; stop them all together."""
        logs = Path(settings.BASE_DIR) / ".data" / "demo-logs"
        logs.mkdir(parents=True, exist_ok=True)
        processes: list[DemoProcess] = []
        web_environment: dict[str, str] = {"PORTAL_URL_PORT": str(port)}
        for services in DEMO_SERVICES:
            found = services(port)
            processes += found.processes
            web_environment.update(found.web_environment)
            lines += found.lines
        web = DemoProcess(
            "web",
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        )
        running: list[tuple[DemoProcess, subprocess.Popen[bytes]]] = []
        scheduler_stop = None

        def start(process: DemoProcess, *, to_log: bool = True) -> None:
            log = (logs / f"{process.name}.log").open("ab") if to_log else None
            child = subprocess.Popen(
                process.argv,
                cwd=settings.BASE_DIR,
                env={**os.environ, **web_environment, **process.environment},
                stdout=log,
                stderr=subprocess.STDOUT if log else None,
                start_new_session=True,
            )
            running.append((process, child))

        try:
            start(web, to_log=False)
            self._wait_for(f"http://127.0.0.1:{port}/", running[0][1])
            for process in processes:
                start(process)
            # Scheduled jobs: in a thread here without a broker; with one, beat and a worker.
            if broker_configured():
                lines.append(
                    "  Jobs         CELERY_BROKER_URL is set: run beat and a worker beside this: "
                    "celery -A canvass --workdir platform beat  and  "
                    "celery -A canvass --workdir platform worker"
                )
            else:
                # The jobs' lines go to their own file, not between the web server's.
                jobs_log = logging.FileHandler(logs / "jobs.log")
                jobs_log.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
                for name in JOB_LOGGERS:
                    logging.getLogger(name).addHandler(jobs_log)
                    logging.getLogger(name).propagate = False
                scheduler_stop, line = scheduler_start()
                lines.append(f"  Jobs         {line} (log: jobs.log)")
            lines += self._operations_lines(port)
            lines.append(f"  Logs         {logs}/ (one file per process)")
            self.stdout.write(self.style.SUCCESS("\n".join(lines)) + "\n")
            while True:
                for process, child in running:
                    if child.poll() is not None:
                        if process is web:
                            return
                        self.stderr.write(
                            f"{process.name} stopped (exit {child.returncode}); see "
                            f"{logs / (process.name + '.log')}"
                        )
                        running.remove((process, child))
                        break
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            if scheduler_stop is not None:
                scheduler_stop()
            for _process, child in reversed(running):
                if child.poll() is None:
                    os.killpg(child.pid, signal.SIGTERM)
            for _process, child in running:
                try:
                    child.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    os.killpg(child.pid, signal.SIGKILL)

    @staticmethod
    def _operations_lines(port: int) -> list[str]:
        """Where files and emails go in the demo, and the operations endpoints."""
        if settings.STORAGES["evidence"]["BACKEND"].endswith("FileSystemStorage"):
            files = (
                f"on this disk ({settings.MEDIA_ROOT}, {settings.PRIVATE_ROOT}); "
                "STORAGE_BACKEND=s3 puts them in object storage (docs/operations.md)"
            )
        else:
            files = f"object storage at {settings.STORAGES['evidence']['OPTIONS']['endpoint_url']}"
        if settings.EMAIL_BACKEND.endswith("console.EmailBackend"):
            email = "printed here, not sent (EMAIL_PROVIDER=console; see docs/operations.md)"
        else:
            email = f"sent through {settings.EMAIL_BACKEND}"
        return [
            f"  Files        {files}",
            f"  Email        {email}",
            f"  Health       http://localhost:{port}/health/ready  metrics: "
            f"http://localhost:{port}/metrics (this machine only)",
        ]

    @staticmethod
    def _wait_for(url: str, child: subprocess.Popen[bytes]) -> None:
        """Until the web server answers (the bridges and the relay talk to it at once)."""
        for _attempt in range(120):
            if child.poll() is not None:
                raise SystemExit("the web server did not start; see the lines above")
            try:
                urllib.request.urlopen(url, timeout=1)
                return
            except urllib.error.HTTPError:
                return
            except OSError:
                time.sleep(0.5)
        raise SystemExit(f"the web server did not answer at {url} within a minute")
