"""How long notifying 5,000 owners takes through the queue.

In a throwaway database (`bench_notify_` beside the project's, apart from the test suite's), one
department with N owners (5,000 by default), each with a site within 1 km of an incident. Measured:
- through the queue: `notify_area.delay()` to a Celery worker on Redis taking two tasks at a
  time as deployed (when Redis answers at 127.0.0.1:6379; otherwise the job runs in-process and
  says so), from queueing to the last copy recorded as sent: by default the worker runs in this
  process with a pool of threads (its tasks share this interpreter's lock); `--pool prefork`
  starts it as deployed, a `celery worker` process of its own with its prefork pool
  (bench/notify_worker_settings.py keeps its emails in memory, as here);
- the job in-process (one run, alone), for a second incident at the same place;
- baseline: the same N emails rendered from the same templates and handed to the same email
  backend in one loop, with nothing claimed or recorded (what the job cost to render before);
- floors: the same N emails filled in from one rendering per language (email_form) and handed
  over, nothing recorded, and the same with each email's MIME built by Django's message() as
  before the form's MIME was kept (EmailForm's MimeForm); N durable commits one after another,
  on one connection (what one run claiming one copy at a time waited for its flushes); and the
  claims alone: the N copies of a third notice claimed and recorded in batches by one run, as
  the job does, nothing emailed;
- `--claim-batch B` sets portal.department.tasks.CLAIM_BATCH for the run (20 by default);
- `--profile DIR` keeps a cProfile of the job run in-process (DIR/notify.prof).

Emails go to Django's in-memory backend: an SMTP server's own speed is not included.

    .venv/bin/python bench/notify.py
    .venv/bin/python bench/notify.py --profile bench/profiles
    .venv/bin/python bench/notify.py --claim-batch 50
    .venv/bin/python bench/notify.py --pool prefork     # the worker as deployed
"""

from __future__ import annotations

import argparse
import gc
import os
import platform as platform_module
import random
import sys
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "platform")]
# bench/ is on the path of a script run from it.
from benchlib import CENTRE, bench_department, notify_through_queue  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "canvass.settings")
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--owners", type=int, default=5_000)
    parser.add_argument("--profile", metavar="DIR", help="write DIR/notify.prof")
    parser.add_argument(
        "--concurrency", type=int, default=2, help="the worker's tasks at a time (deployed: 2)"
    )
    parser.add_argument(
        "--pool",
        choices=["threads", "prefork"],
        default="threads",
        help="the worker in this process as threads (sharing its interpreter lock), or as "
        "deployed: a celery worker process of its own, prefork",
    )
    parser.add_argument(
        "--claim-batch", type=int, help="copies a claim takes at most (tasks.CLAIM_BATCH)"
    )
    arguments = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.core import mail
    from django.core.mail import EmailMultiAlternatives
    from django.db import connection
    from django.test.utils import setup_test_environment
    from django.utils import timezone
    from django_tenants.utils import tenant_context

    from portal.department import tasks
    from portal.department.models import Incident, Notification
    from portal.department.tasks import EMAIL_TEMPLATES, notify_area
    from portal.registry.emails import email_form, email_message
    from portal.registry.models import Participant, Site
    from tenants.database import throwaway_database
    from tenants.services import platform_site_ensure

    setup_test_environment(debug=False)
    if arguments.claim_batch:
        tasks.CLAIM_BATCH = arguments.claim_batch
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    load_before = os.getloadavg()
    database = throwaway_database(prefix="bench_notify_")
    database.__enter__()
    try:
        platform_site_ensure()
        department = bench_department(radius_m=22_000)
        with connection.cursor() as cursor:
            cursor.execute("SELECT version()")
            server = cursor.fetchone()[0].split(" on ")[0]
        rng = random.Random(1)
        with tenant_context(department):
            staff_user = get_user_model().objects.get(email="chief@bench.example.org")
            users = get_user_model().objects.bulk_create(
                get_user_model()(
                    username=f"area{n}@bench.example.org",
                    email=f"area{n}@bench.example.org",
                    password=make_password(None),
                )
                for n in range(arguments.owners)
            )
            participants = Participant.objects.bulk_create(
                Participant(user=user, language=rng.choice(("en", "es"))) for user in users
            )
            Site.objects.bulk_create(
                Site(
                    participant=participant,
                    kind="home",
                    address=f"{n} Area Rd",
                    latitude=CENTRE[0] + rng.uniform(-0.006, 0.006),
                    longitude=CENTRE[1] + rng.uniform(-0.006, 0.006),
                    contact_name="x",
                    contact_method="email",
                    terms_version=1,
                    terms_accepted_at=timezone.now(),
                )
                for n, participant in enumerate(participants)
            )

            def incident_open(case_number: str) -> Incident:
                return Incident.objects.create(
                    kind="other",
                    case_number=case_number,
                    latitude=CENTRE[0],
                    longitude=CENTRE[1],
                    starts_at=timezone.now(),
                    ends_at=timezone.now(),
                    radius_m=1_000,
                    opened_by=staff_user,
                )

            incident = incident_open("NOTIFY")

            def notification(incident: Incident) -> Notification:
                return Notification.objects.create(
                    incident=incident,
                    message="Please check your camera.",
                    radius_m=incident.radius_m,
                    created_by=staff_user,
                )

            # The 5,000 users and owners made above are no worker's: dropped, and the garbage
            # collector run once, so that its full collections during the measurements do not
            # also walk them.
            del users, participants
            gc.collect()

            # Through the queue.
            queued_notification = notification(incident)
            mail.outbox = []
            queued, mode = notify_through_queue(
                queued_notification,
                arguments.owners,
                concurrency=arguments.concurrency,
                pool=arguments.pool,
            )
            delivered = queued_notification.recipients.filter(sent_at__isnull=False).count()
            # A worker process's emails stay in its own memory: counted here as the copies
            # it recorded as sent.
            emailed = len(mail.outbox) if arguments.pool == "threads" else delivered

            # The job in-process, profiled when asked: another case (a second notice of the same
            # case addresses only the owners the first did not).
            in_process_notification = notification(incident_open("NOTIFY-2"))
            started = time.perf_counter()
            if arguments.profile:
                import cProfile

                Path(arguments.profile).mkdir(parents=True, exist_ok=True)
                profile = cProfile.Profile()
                profile.runcall(notify_area, in_process_notification.pk)
                profile.dump_stats(str(Path(arguments.profile) / "notify.prof"))
            else:
                notify_area(in_process_notification.pk)
            in_process = time.perf_counter() - started

            # Baseline: the same emails rendered and handed to the backend, nothing recorded.
            template = EMAIL_TEMPLATES[Notification.Kind(queued_notification.kind)]
            addressed = list(Participant.objects.values_list("user__email", "language"))
            started = time.perf_counter()
            from django.core.mail import get_connection

            with get_connection() as backend:
                backend.send_messages(
                    [
                        email_message(
                            template=template,
                            to=email,
                            language=language,
                            context={
                                "notification": queued_notification,
                                "incident": incident,
                                "answer_url": department.url("/answer/x/"),
                            },
                            department=department,
                        )
                        for email, language in addressed
                    ]
                )
            baseline = time.perf_counter() - started

            def forms_per_language() -> dict[str, Any]:
                """The notice's email rendered once in each language its owners read."""
                return {
                    language: email_form(
                        template=template,
                        language=language,
                        context={
                            "notification": queued_notification,
                            "incident": incident,
                            "answer_url": department.url("/answer/{}/"),
                        },
                        blank_in="answer_url",
                        department=department,
                    )
                    for language in {language for _email, language in addressed}
                }

            # Floors: the same emails from one rendering per language; commits one at a time.
            started = time.perf_counter()
            with get_connection() as backend:
                forms = forms_per_language()
                backend.send_messages(
                    [
                        forms[language].fill(to=email, value=f"x{n}")
                        for n, (email, language) in enumerate(addressed)
                    ]
                )
            filled = time.perf_counter() - started
            # The same, each email's MIME built by Django's message() (EmailMultiAlternatives's
            # own), as before the form's MIME was kept.
            started = time.perf_counter()
            with get_connection() as backend:
                forms = forms_per_language()
                plain = []
                for n, (email, language) in enumerate(addressed):
                    email_before = EmailMultiAlternatives()
                    email_before.__dict__.update(
                        forms[language].fill(to=email, value=f"x{n}").__dict__
                    )
                    plain.append(email_before)
                backend.send_messages(plain)
            filled_before = time.perf_counter() - started
            # The claims alone, as one run makes them (nothing emailed).
            claimed_notification = notification(incident_open("NOTIFY-3"))
            tasks.notification_copies_make(claimed_notification)
            size = tasks.claim_size(arguments.owners)
            started = time.perf_counter()
            after, claims, recorded = 0, 0, []
            while batch := tasks.copies_claim(
                claimed_notification, claim=uuid.uuid4(), after=after, size=size, sent=recorded
            ):
                claims += 1
                after, recorded = batch[-1].pk, [claimed.pk for claimed in batch]
            claimed = time.perf_counter() - started
            started = time.perf_counter()
            with connection.cursor() as cursor:
                # One row rewritten (the app's role creates no tables); autocommit: one commit,
                # so one flush, per statement, as each claim.
                table = connection.ops.quote_name(Notification._meta.db_table)
                for _n in range(arguments.owners):
                    cursor.execute(
                        f"UPDATE {table} SET message = message WHERE id = %s",
                        [queued_notification.pk],
                    )
            flushes = time.perf_counter() - started
    finally:
        database.__exit__(None, None, None)

    load = os.getloadavg()
    print(
        f"machine: {platform_module.machine()}, {os.cpu_count()} cores, "
        f"Python {platform_module.python_version()}; {server}; load average (1, 5, 15 min) "
        f"{load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f} at the start, "
        f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f} at the end; claims of up to "
        f"{tasks.CLAIM_BATCH} copies (tasks.CLAIM_BATCH)"
    )
    print("| measured | s | ratio to baseline |")
    print("|---|---:|---:|")
    for step, seconds in (
        (f"through the queue ({mode}), {delivered:,} copies sent, {emailed:,} emails", queued),
        (f"the job in-process{' (under cProfile)' if arguments.profile else ''}", in_process),
        ("baseline: the same emails rendered and handed over, nothing recorded", baseline),
        ("floor: the same emails filled in from one rendering per language", filled),
        ("floor (before): the same, each MIME built by Django's message()", filled_before),
        (f"floor: {arguments.owners:,} durable commits one at a time", flushes),
        (
            f"floor: the claims alone, {claims} claims of up to {size} copies by one run",
            claimed,
        ),
    ):
        print(f"| {step} | {seconds:.2f} | {seconds / baseline:.1f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
