"""Check every city's audit trail, link by link, and report the first entry that does not hold."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django_tenants.utils import schema_context

from tenants.models import Department

GENESIS = "0" * 64

# The rule the trigger of migration 0006_auditdb_hash_chain applies, spelled out again here on
# purpose: the check must not trust functions in the schema it checks, which the owner could
# replace. The entry as jsonb, in UTC, without the hashes and without null or "" values.
ENTRIES = """
SELECT e.id, e.prev_hash, e.hash,
       (SELECT coalesce(jsonb_object_agg(key, value), '{}'::jsonb)::text
        FROM jsonb_each(to_jsonb(e) - 'hash' - 'prev_hash')
        WHERE value NOT IN ('null'::jsonb, '""'::jsonb))
FROM registry_auditentry e ORDER BY e.id
"""


@dataclass(frozen=True)
class Verdict:
    entries: int
    # The first entry that does not hold, and how; None when the chain is intact.
    broken_at: int | None = None
    problem: str = ""


def entry_hash(prev_hash: str, canonical: str) -> str:
    return hashlib.sha256(f"{prev_hash}\n{canonical}".encode()).hexdigest()


def audit_chain_verify() -> Verdict:
    """Walk the current schema's audit trail in id order, recomputing every hash."""
    previous = GENESIS
    count = 0
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL TimeZone = 'UTC'; SET LOCAL IntervalStyle = 'iso_8601'")
        cursor.execute(ENTRIES)
        for entry_id, prev_hash, stored, canonical in cursor:
            count += 1
            if prev_hash != previous:
                return Verdict(
                    count,
                    entry_id,
                    f"its link (prev_hash {prev_hash[:12] or '(none)'}…) does not name the "
                    f"entry before it ({previous[:12]}…): an entry was removed, inserted or "
                    "reordered",
                )
            expected = entry_hash(prev_hash, canonical)
            if stored != expected:
                return Verdict(
                    count,
                    entry_id,
                    f"its contents do not match its hash (stored {stored[:12] or '(none)'}…, "
                    f"recomputed {expected[:12]}…): it was changed after it was written",
                )
            previous = stored
    return Verdict(count)


class Command(BaseCommand):
    help = (
        "Verify the hash chain of every department's audit trail (or of --schema); exits with "
        "status 1 at the first broken link."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--schema", help="only this department's schema")

    def handle(self, *args: Any, **options: Any) -> None:
        # A suspended city's data is kept, and its trail checked like any other; one still
        # being provisioned has no trail yet.
        departments = Department.objects.provisioned().order_by("schema_name")
        if options["schema"]:
            departments = departments.filter(schema_name=options["schema"])
            if not departments.exists():
                raise CommandError(f"No department has the schema {options['schema']!r}.")
        broken = []
        for department in departments:
            with schema_context(department.schema_name):
                verdict = audit_chain_verify()
            if verdict.broken_at is None:
                self.stdout.write(f"{department.schema_name}: intact, {verdict.entries} entries")
            else:
                broken.append(department.schema_name)
                self.stdout.write(
                    f"{department.schema_name}: BROKEN at entry {verdict.broken_at}: "
                    f"{verdict.problem}"
                )
        if broken:
            raise CommandError(f"The audit trail is broken in {', '.join(broken)}.")
