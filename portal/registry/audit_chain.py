"""The audit trail's hash chain checked link by link (`manage.py audit_verify`, the scheduled
job portal.registry.tasks.audit_verify): the first entry that does not hold, and how."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.db import connection, transaction

GENESIS = "0" * 64

# The rule the trigger of migration 0006_auditdb_hash_chain applies, spelled out again here on
# purpose: the check must not trust functions in the schema it checks, which the owner could
# replace. The entry as jsonb, in UTC, without the hashes and without null or "" values.
ENTRIES = """
SELECT e.id, e.prev_hash, e.hash,
       (SELECT coalesce(jsonb_object_agg(key, value), '{}'::jsonb)::text
        FROM jsonb_each(to_jsonb(e) - 'hash' - 'prev_hash')
        WHERE value NOT IN ('null'::jsonb, '""'::jsonb))
FROM registry_auditentry e WHERE e.id > %s ORDER BY e.id
"""


@dataclass(frozen=True)
class Verdict:
    entries: int
    # The first entry that does not hold, and how; None when the chain is intact.
    broken_at: int | None = None
    problem: str = ""

    def __str__(self) -> str:
        if self.broken_at is None:
            return f"intact, {self.entries} entries"
        return f"BROKEN at entry {self.broken_at}: {self.problem}"


class AuditChainBroken(Exception):
    """The scheduled check found a broken link: the job fails, and the platform's audit log
    records it (canvass.celery.scheduled_job_failed)."""


def entry_hash(prev_hash: str, canonical: str) -> str:
    return hashlib.sha256(f"{prev_hash}\n{canonical}".encode()).hexdigest()


def audit_chain_verify(*, after: int = 0, previous: str = GENESIS) -> Verdict:
    """Walk the current schema's audit trail in id order, recomputing every hash; from the
    start, or only the entries after entry `after` whose hash, `previous`, was checked before
    (a council report's check: portal.council_reports)."""
    count = 0
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL TimeZone = 'UTC'; SET LOCAL IntervalStyle = 'iso_8601'")
        cursor.execute(ENTRIES, [after])
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
