"""Every change to the registry: registering, editing, pausing, confirming, opting out, lapsing,
importing; and the reads of personal data in bulk (exports), which record themselves.

Each function is one transaction and the only way its state changes.
"""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models import Model, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.registry import registry_io
from portal.registry.audit import Actor, audit_record
from portal.registry.bounces import email_deliverable_again
from portal.registry.emails import participant_email
from portal.registry.forms import CAMERA_FIELDS
from portal.registry.models import (
    AuditEntry,
    Camera,
    ImportJob,
    ImportSite,
    OptOut,
    Participant,
    Site,
)
from portal.registry.signals import (
    participant_lapsing,
    participant_opting_out,
    site_integration_changed,
)
from portal.registry.storage import city_path, evidence_storage
from tenants.db import copy_rows, copy_text_array, copy_text_json, insert_defaults
from tenants.models import Program
from tenants.signing import Link, LinkError, link_id, link_read, link_sign
from tenants.storage import file_discard, file_store


def participant_create(
    *, user: User, organisation_name: str = "", language: str = "en"
) -> Participant:
    return Participant.objects.create(
        user=user, organisation_name=organisation_name.strip(), language=language
    )


def _confirm(participant: Participant, now: datetime) -> None:
    participant.status = Participant.Status.ACTIVE
    participant.confirmed_at = now
    participant.notice_sent_at = participant.reminder_sent_at = participant.lapsed_at = None
    participant.save(
        update_fields=["status", "confirmed_at", "notice_sent_at", "reminder_sent_at", "lapsed_at"]
    )


@transaction.atomic
def site_register(
    *,
    participant: Participant,
    program: Program,
    site: Mapping[str, Any],
    cameras: Iterable[Mapping[str, Any]],
    language: str,
) -> Site:
    """Register a site with its cameras under the department's current terms.

    Registering is also a confirmation: a lapsed or purged participant becomes active again.
    """
    now = timezone.now()
    new_site = Site.objects.create(
        participant=participant,
        terms_version=program.terms_version,
        terms_accepted_at=now,
        **site,
    )
    Camera.objects.bulk_create(Camera(site=new_site, **camera) for camera in cameras)
    participant.language = language
    participant.save(update_fields=["language"])
    _confirm(participant, now)
    return new_site


@transaction.atomic
def site_update(
    *,
    site: Site,
    program: Program,
    changes: Mapping[str, Any],
    cameras_changed: Iterable[tuple[Camera | None, Mapping[str, Any]]],
    cameras_deleted: Iterable[Camera],
    terms_accepted: bool,
) -> Site:
    """Edit a site and its cameras: `cameras_changed` pairs an existing camera (or None for a new
    one) with its fields. Accepting the current terms records their version."""
    for field, value in changes.items():
        setattr(site, field, value)
    if terms_accepted:
        site.terms_version, site.terms_accepted_at = program.terms_version, timezone.now()
    site.save()
    for camera in cameras_deleted:
        camera.delete()
    for existing, fields in cameras_changed:
        if existing is None:
            Camera.objects.create(site=site, **fields)
        else:
            for field, value in fields.items():
                setattr(existing, field, value)
            existing.save()
    return site


@transaction.atomic
def terms_accept(*, participant: Participant, program: Program) -> int:
    """The participant accepts the department's current terms for every site of theirs that was
    registered under older ones. Returns how many sites; none the second time."""
    return (
        Site.objects.filter(participant=participant)
        .terms_outdated(program.terms_version)
        .update(terms_version=program.terms_version, terms_accepted_at=timezone.now())
    )


@transaction.atomic
def site_set_paused(*, site: Site, paused: bool) -> Site:
    site.paused = paused
    site.save(update_fields=["paused", "updated_at"])
    return site


@transaction.atomic
def site_integration_set(*, site: Site, integrated: bool, actor: Actor, reason: str) -> Site:
    """Make a site integrated or return it to registered. Only billing calls this, when money
    says so (a paid invoice; a subscription cancelled, unpaid or past its grace period): an
    owner never picks integration by hand. The registration itself is never touched, and the
    change is written to the site's audit trail so the owner sees when sharing began and ended."""
    wanted = Site.Participation.INTEGRATED if integrated else Site.Participation.REGISTERED
    site = Site.objects.select_for_update().get(pk=site.pk)
    if site.participation == wanted:
        return site
    site.participation = wanted
    site.save(update_fields=["participation", "updated_at"])
    action = (
        AuditEntry.Action.INTEGRATION_START if integrated else AuditEntry.Action.INTEGRATION_END
    )
    audit_record(actor=actor, action=action, reason=reason, site=site)
    # Live view turns the site's sharing off and ends its open grants (a lapse ends access).
    site_integration_changed.send(sender=Site, site=site, integrated=integrated)
    return site


@transaction.atomic
def camera_set_paused(*, camera: Camera, paused: bool) -> Camera:
    camera.paused = paused
    camera.save(update_fields=["paused"])
    return camera


@transaction.atomic
def participant_confirm(*, participant: Participant) -> Participant:
    _confirm(participant, timezone.now())
    return participant


def verification_token(participant: Participant) -> str:
    """The yearly confirmation link's token: for this city's portal, and good for the
    participant's current confirmation only (confirming changes `confirmed_at`)."""
    return link_sign(
        Link.REGISTRATION_CONFIRM,
        {"p": participant.pk, "c": participant.confirmed_at.isoformat()},
    )


def participant_by_link(*, token: str, for_update: bool = False) -> Participant:
    """The participant whose registration a yearly confirmation link can still confirm;
    LinkError says why not ("invalid", "expired", "used", "purged")."""
    payload = link_read(Link.REGISTRATION_CONFIRM, token)
    participants = Participant.objects.select_for_update() if for_update else Participant.objects
    participant = participants.filter(pk=link_id(payload, "p")).first()
    if participant is None:
        raise LinkError("invalid")
    if participant.confirmed_at.isoformat() != payload.get("c"):
        raise LinkError("used")
    if participant.status == Participant.Status.PURGED:
        raise LinkError("purged")
    return participant


@transaction.atomic
def participant_confirm_by_link(*, token: str) -> Participant:
    """Confirm from an emailed link without signing in; a link works once."""
    participant = participant_by_link(token=token, for_update=True)
    _confirm(participant, timezone.now())
    # The link reached them by email: their address works (portal.registry.bounces).
    email_deliverable_again(user=participant.user)
    participant.refresh_from_db()
    return participant


@dataclass(frozen=True)
class OptOutResult:
    sites_deleted: int
    cameras_deleted: int
    account_closed: bool


class NothingToDelete(Exception):
    """The participant has already opted out: no sites are left."""


@transaction.atomic
def participant_opt_out(*, participant: Participant, close_account: bool) -> OptOutResult:
    """Delete the participant's sites, cameras and contact details at once (rows, not flags),
    and the account too if asked; email a confirmation; keep a count without personal data."""
    participant = Participant.objects.select_for_update().get(pk=participant.pk)
    sites = Site.objects.filter(participant=participant)
    site_count = sites.count()
    if site_count == 0 and not close_account:
        raise NothingToDelete
    camera_count = Camera.objects.filter(site__participant=participant).count()
    email, language = participant.user.email, participant.language
    participant_opting_out.send(sender=Participant, participant=participant)
    contacts = list(sites.values_list("contact_email", "contact_phone", "contact_name"))
    imports_forget(
        emails={registry_io.identity_text(value) for value in [email, *(c[0] for c in contacts)]},
        phones={registry_io.phone_digits(c[1]) for c in contacts},
        names={registry_io.identity_text(c[2]) for c in contacts},
    )
    sites.delete()
    if close_account:
        participant.user.delete()
    else:
        participant.organisation_name = ""
        participant.save(update_fields=["organisation_name"])
    OptOut.objects.create(
        sites_deleted=site_count, cameras_deleted=camera_count, account_closed=close_account
    )
    transaction.on_commit(
        lambda: participant_email(
            email=email,
            language=language,
            template="opted_out",
            context={"account_closed": close_account, "sites_deleted": site_count},
        )
    )
    return OptOutResult(site_count, camera_count, close_account)


@dataclass
class VerificationCounts:
    notices: int = 0
    reminders: int = 0
    lapsed: int = 0
    purged: int = 0


def registrations_verify(*, program: Program, now: datetime) -> VerificationCounts:
    """The yearly re-verification in the current department's schema: notice before the
    anniversary, a reminder on it, lapse after the grace period, purge after the purge period.
    Each participant's step is its own transaction and is recorded, so running twice sends
    nothing twice."""
    counts = VerificationCounts()
    # Only registrations are verified: an account without a site has nothing to confirm.
    candidates = (
        Participant.objects.exclude(status=Participant.Status.PURGED)
        .filter(sites__isnull=False)
        .distinct()
        .values_list("pk", flat=True)
    )
    for participant_pk in list(candidates):
        with transaction.atomic():
            participant = (
                Participant.objects.select_for_update()
                .select_related("user")
                .get(pk=participant_pk)
            )
            if participant.purge_due(program, now):
                participant_lapsing.send(sender=Participant, participant=participant)
                _purge(participant)
                counts.purged += 1
            elif participant.lapse_due(program, now):
                participant.status, participant.lapsed_at = Participant.Status.LAPSED, now
                participant.save(update_fields=["status", "lapsed_at"])
                participant_lapsing.send(sender=Participant, participant=participant)
                _notify(participant, "lapsed", program)
                counts.lapsed += 1
            elif participant.reminder_due(now):
                participant.reminder_sent_at = now
                participant.save(update_fields=["reminder_sent_at"])
                _notify(participant, "verification_reminder", program)
                counts.reminders += 1
            elif participant.notice_due(program, now):
                participant.notice_sent_at = now
                participant.save(update_fields=["notice_sent_at"])
                _notify(participant, "verification_notice", program)
                counts.notices += 1
    return counts


def _purge(participant: Participant) -> None:
    Site.objects.filter(participant=participant).delete()
    participant.status = Participant.Status.PURGED
    participant.organisation_name = ""
    participant.save(update_fields=["status", "organisation_name"])


def _notify(participant: Participant, template: str, program: Program) -> None:
    email, language = participant.user.email, participant.language
    context = {
        "token": verification_token(participant),
        "anniversary": participant.anniversary(),
        "lapse_on": participant.anniversary() + timedelta(days=program.verification_grace_days),
        "purge_after_days": program.purge_after_days,
    }
    transaction.on_commit(
        lambda: participant_email(
            email=email, language=language, template=template, context=context
        )
    )


class ImportNotReady(Exception):
    """The import is not in a state that allows this step (already written, cancelled, ...)."""


IMPORT_FOLDER = "imports"
# How long an import may wait for its confirmation before its file and rows are deleted.
IMPORT_KEPT_FOR = timedelta(days=1)


def import_start(*, actor: Actor, filename: str, content: bytes) -> ImportJob:
    """Keep an uploaded file in private storage, under the city's prefix, and open its job; the
    caller queues the check (`import_check_run`) in the background."""
    extension = "geojson" if registry_io.is_geojson(filename) else "csv"
    storage = evidence_storage()
    # The name is shown back to staff: no control characters (PostgreSQL refuses NUL outright).
    shown_name = registry_io.CONTROL_CHARACTERS.sub("", filename)[:100]
    stored_name = ""
    try:
        # The file first (StorageUnavailable when the storage cannot keep it: no row), then the
        # row. A file whose row is not written is deleted (or logged as an orphan when the
        # storage fails that too); one whose outer transaction rolls back later is an orphan
        # that uploads_sweep deletes after a day, as it does the logged ones.
        with transaction.atomic():
            stored_name = file_store(
                storage,
                city_path(IMPORT_FOLDER, f"{uuid.uuid4().hex}.{extension}"),
                ContentFile(content),
            )
            return ImportJob.objects.create(
                filename=shown_name, stored_name=stored_name, created_by=actor.staff
            )
    except BaseException:
        if stored_name:
            file_discard(storage, stored_name)
        raise


def import_check_run(*, job_id: int, program: Program) -> ImportJob:
    """Check every row of a job's file once, with progress, and keep the checked sites for the
    commit; the file itself is deleted once checked. If an opt-out rewrote the file meanwhile,
    the check starts again on the new file."""
    while True:
        job = ImportJob.objects.get(pk=job_id)
        if job.status != ImportJob.Status.CHECKING:
            return job
        revision = job.revision
        with evidence_storage().open(job.stored_name) as stored:
            content = stored.read()

        def progress(checked: int, total: int) -> None:
            ImportJob.objects.filter(pk=job_id).update(rows=total, rows_checked=checked)

        check = registry_io.import_check(
            content, job.stored_name, program=program, progress=progress
        )
        with transaction.atomic():
            job = ImportJob.objects.select_for_update().get(pk=job_id)
            if job.revision != revision:
                continue
            if job.status != ImportJob.Status.CHECKING:
                return job
            job.status = ImportJob.Status.CHECKED if check.ok else ImportJob.Status.FAILED
            job.rows = job.rows_checked = check.rows
            job.site_count = len(check.sites) if check.ok else 0
            job.camera_count = sum(len(site.cameras) for site in check.sites) if check.ok else 0
            job.errors = [list(error) for error in check.errors]
            job.error_count = check.error_count
            job.checked_at = timezone.now()
            if check.ok:
                copy_rows(
                    ImportSite,
                    (
                        (
                            job.pk,
                            copy_text_array(site.rows),
                            copy_text_json(site.fields),
                            copy_text_json(site.cameras),
                        )
                        for site in check.sites
                    ),
                    columns=("job_id", "rows", "fields", "cameras"),
                )
            _import_file_delete(job)
            job.save()
            return job


def import_failed(*, job_id: int) -> None:
    """A check or commit that crashed: say so on the job, and drop what it held."""
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job_id)
        if job.status in (ImportJob.Status.CHECKING, ImportJob.Status.COMMITTING):
            job.status = ImportJob.Status.FAILED
            job.errors = [[0, _("The import could not be completed; nothing was imported.")]]
            job.error_count = 1
            job.finished_at = timezone.now()
            job.sites_drop()
            _import_file_delete(job)
            job.save()


def import_preview(*, actor: Actor, job: ImportJob, limit: int = 20) -> list[ImportSite]:
    """The first sites of a checked import (addresses and contact names) for staff to look over
    before confirming; showing them is recorded."""
    sites = list(job.sites.all()[:limit]) if job.status == ImportJob.Status.CHECKED else []
    if sites:
        audit_record(
            actor=actor,
            action=AuditEntry.Action.IMPORT_PREVIEW,
            reason=f"Registry import {job.pk} previewed: {len(sites)} of {job.site_count} sites",
        )
    return sites


@transaction.atomic
def import_commit_request(*, actor: Actor, job: ImportJob) -> ImportJob:
    """Confirm a checked import: it is written by `registry_import` in the background, once."""
    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    if job.status != ImportJob.Status.CHECKED:
        raise ImportNotReady(job.status)
    job.status = ImportJob.Status.COMMITTING
    job.committed_by, job.committed_from = actor.staff, actor.ip_address
    job.save(update_fields=["status", "committed_by", "committed_from"])
    return job


def import_actor(job: ImportJob) -> Actor:
    """Who confirmed a job, as the background commit acts for them."""
    if job.committed_by is None:
        return Actor.system("registry-import")
    return Actor.of_staff(job.committed_by, job.committed_from)


@transaction.atomic
def import_cancel(*, job: ImportJob) -> ImportJob:
    """Drop an import that was not written: its file and checked rows go at once."""
    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    if job.status not in (ImportJob.Status.CHECKED, ImportJob.Status.FAILED):
        raise ImportNotReady(job.status)
    job.status, job.finished_at, job.errors = ImportJob.Status.CANCELLED, timezone.now(), []
    job.sites_drop()
    _import_file_delete(job)
    job.save()
    return job


@transaction.atomic
def registry_import(*, actor: Actor, job: ImportJob, program: Program) -> int:
    """Write a confirmed import, all or nothing, from the rows its check kept (they are not
    checked again; only what may have changed since is: a site registered meanwhile, a narrower
    service area). Each owner gets an account without a password (they can claim it by
    resetting it) and a participant; their sites and cameras are written straight from the
    checked rows' JSON by INSERT ... SELECT, in the database. Returns how many sites were
    written (0 if the import failed)."""
    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    if job.status != ImportJob.Status.COMMITTING:
        raise ImportNotReady(job.status)
    # The statements' sorts (tens of thousands of staged rows) kept in memory, not spilled to
    # disk as with the default work_mem; for this transaction only.
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL work_mem = '64MB'")
    checked = _import_sites_checked(job)
    conflicts = [
        [first_row, _("This site has been registered since the check.")]
        for _pk, first_row, _latitude, _longitude, _email, registered in checked
        if registered
    ] + [
        # The department may have narrowed its service area since the check.
        [first_row, _("The location is now outside the department's service area.")]
        for _pk, first_row, latitude, longitude, _email, _registered in checked
        if not program.covers(latitude, longitude)
    ]
    if conflicts or not checked:
        job.status, job.finished_at = ImportJob.Status.FAILED, timezone.now()
        job.errors = conflicts[: registry_io.MAX_REPORTED_ERRORS] or [
            [0, _("No rows are left to import.")]
        ]
        job.error_count = len(conflicts) or 1
        job.sites_drop()
        job.save()
        return 0
    now = timezone.now()
    user_model = get_user_model()
    written = {email: email.lower() for *_site, email, _registered in checked}
    emails = set(written.values())
    users = dict(_rows_matching(user_model, ("email", "id"), "email", sorted(emails)))
    users = {email.lower(): pk for email, pk in users.items()}
    unusable = make_password(None)
    new_emails = sorted(emails - users.keys())
    users |= _insert_numbered(
        user_model,
        ("username", "email", "password", "date_joined"),
        "value, value, %s::varchar, %s::timestamptz",
        [unusable, now],
        new_emails,
        "text",
    )
    participants = dict(
        _rows_matching(Participant, ("user_id", "id"), "user_id", sorted(set(users.values())))
    )
    owners = sorted(set(users.values()) - participants.keys())
    participants |= _insert_numbered(
        Participant,
        ("user_id", "confirmed_at", "created_at"),
        "value, %s::timestamptz, %s::timestamptz",
        [now, now],
        owners,
        "bigint",
    )
    site_ids = _sites_insert(
        job,
        program,
        now,
        {email: participants[users[lower]] for email, lower in written.items()},
    )
    if len(site_ids) != len(checked):
        raise AssertionError(
            f"Import {job.pk}: {len(checked)} sites checked, {len(site_ids)} written"
        )
    camera_count = _cameras_insert(site_ids, [pk for pk, *_site in checked])
    audit_record(
        actor=actor,
        action=AuditEntry.Action.IMPORT,
        reason=f"Registry import: {len(site_ids)} sites",
    )
    job.status, job.finished_at = ImportJob.Status.DONE, now
    job.site_count = len(site_ids)
    job.camera_count = camera_count
    job.sites_drop()
    _import_file_delete(job)
    job.save()
    return len(site_ids)


def _import_sites_checked(job: ImportJob) -> list[tuple[int, int, float, float, str, bool]]:
    """A job's checked sites in order, as what the commit looks at again: (checked site's id,
    its first row, latitude, longitude, contact email as written, whether a site with its
    address and coordinates is in the registry now). Nothing else of a site leaves the
    database."""
    quote = connection.ops.quote_name
    staged = quote(ImportSite._meta.db_table)
    sites = quote(Site._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT s.id, s.rows[1], place.latitude, place.longitude, "
            "s.fields->>'contact_email', EXISTS ("
            f"SELECT 1 FROM {sites} r WHERE r.address = place.address "
            "AND r.latitude = place.latitude AND r.longitude = place.longitude) "
            f"FROM {staged} s, LATERAL (SELECT s.fields->>'address' AS address, "
            "(s.fields->>'latitude')::float8 AS latitude, "
            "(s.fields->>'longitude')::float8 AS longitude) place "
            "WHERE s.job_id = %s ORDER BY s.id",
            [job.pk],
        )
        return cursor.fetchall()


def _insert_numbered(
    model: type[Model],
    columns: tuple[str, ...],
    expressions: str,
    params: list[Any],
    values: list[Any],
    value_type: str,
) -> dict[Any, int]:
    """Insert a row of a model for each of `values` (one JSON array parameter, its elements
    named `value` in `expressions`, which give the `columns`), the other columns their
    defaults, the ids drawn in the values' order; returns each value's new id."""
    if not values:
        return {}
    names, placeholders, defaults = insert_defaults(model, columns)
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(model._meta.db_table)} "
            f"({', '.join([*map(quote, columns), *names])}) "
            f"SELECT {', '.join([expressions, *placeholders])} "
            f"FROM (SELECT text::{value_type} AS value, n "
            "FROM jsonb_array_elements_text(%s::jsonb) WITH ORDINALITY AS given(text, n)) given "
            "ORDER BY n RETURNING id",
            # One JSON text: a list parameter is quoted element by element in Python.
            [*params, *defaults, json.dumps(values)],
        )
        # Identity values are drawn as the ordered rows are inserted, whatever order RETURNING
        # gives them back in.
        ids = sorted(row[0] for row in cursor.fetchall())
    return dict(zip(values, ids, strict=True))


def _sites_insert(
    job: ImportJob, program: Program, now: datetime, participants: dict[str, int]
) -> list[int]:
    """Write a job's checked sites, in the checked sites' order, from their JSON (the fields
    typed by the site table's own row type), each with its owner's participant (by the contact
    email as written); returns the new ids in that order."""
    quote = connection.ops.quote_name
    staged, table = quote(ImportSite._meta.db_table), quote(Site._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT fields FROM {staged} WHERE job_id = %s ORDER BY id LIMIT 1", [job.pk]
        )
        (first,) = cursor.fetchone()
    if isinstance(first, str):
        first = json.loads(first)
    # The fields the check kept (the same for every site of a job), then what the import sets.
    kept = [registry_io.model_field(Site, name) for name in first]
    missing = {field.name: field.get_default() for field in kept}
    given = ("participant_id", "terms_version", "terms_accepted_at", "created_at", "updated_at")
    names, placeholders, defaults = insert_defaults(
        Site, [field.attname for field in kept] + list(given)
    )
    columns = [quote(field.column) for field in kept] + [quote(name) for name in given] + names
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(columns)}) "
            f"SELECT {', '.join(f'f.{quote(field.column)}' for field in kept)}, "
            "owner.participant_id, %s::integer, %s::timestamptz, %s::timestamptz, "
            f"%s::timestamptz{''.join(', ' + placeholder for placeholder in placeholders)} "
            f"FROM {staged} s "
            "JOIN (SELECT key AS email, value::bigint AS participant_id "
            "FROM jsonb_each_text(%s::jsonb)) owner "
            "ON owner.email = s.fields->>'contact_email', "
            f"LATERAL jsonb_populate_record(NULL::{table}, %s::jsonb || s.fields) f "
            "WHERE s.job_id = %s ORDER BY s.id RETURNING id",
            [
                program.terms_version,
                now,
                now,
                now,
                *defaults,
                json.dumps(participants),
                json.dumps(missing, cls=DjangoJSONEncoder),
                job.pk,
            ],
        )
        return sorted(row[0] for row in cursor.fetchall())


def _cameras_insert(site_ids: list[int], checked_ids: list[int]) -> int:
    """Write the cameras of the checked sites `checked_ids` under the new sites `site_ids` (the
    same order), from their JSON, in the file's order; returns how many."""
    quote = connection.ops.quote_name
    staged, table = quote(ImportSite._meta.db_table), quote(Camera._meta.db_table)
    kept = [registry_io.model_field(Camera, name) for name in CAMERA_FIELDS]
    names, placeholders, defaults = insert_defaults(
        Camera, ["site_id", *(field.attname for field in kept)]
    )
    columns = ["site_id", *(quote(field.column) for field in kept), *names]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(columns)}) "
            f"SELECT pair.site_id, {', '.join(f'c.{quote(field.column)}' for field in kept)}"
            f"{''.join(', ' + placeholder for placeholder in placeholders)} "
            "FROM (SELECT site.value::bigint AS site_id, checked.value::bigint AS checked_id "
            "FROM jsonb_array_elements_text(%s::jsonb) WITH ORDINALITY AS site(value, n) "
            "JOIN jsonb_array_elements_text(%s::jsonb) WITH ORDINALITY AS checked(value, n) "
            "USING (n)) pair "
            f"JOIN {staged} s ON s.id = pair.checked_id, "
            f"LATERAL jsonb_populate_recordset(NULL::{table}, s.cameras) "
            "WITH ORDINALITY AS c "
            "ORDER BY pair.site_id, c.ordinality",
            [*defaults, json.dumps(site_ids), json.dumps(checked_ids)],
        )
        return cursor.rowcount


def _rows_matching(
    model: type[Model], columns: tuple[str, str], column: str, values: list[Any]
) -> list[tuple[Any, Any]]:
    """Two columns of a model's rows whose `column` is one of `values` (one array parameter,
    where a filter(column__in=...) spells out each of thousands of values)."""
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {quote(columns[0])}, {quote(columns[1])} FROM "
            f"{quote(model._meta.db_table)} WHERE {quote(column)} = ANY(%s)",
            [values],
        )
        return cursor.fetchall()


def _import_file_delete(job: ImportJob) -> None:
    """Delete a job's stored file once the transaction that drops it commits."""
    if job.stored_name:
        name, job.stored_name = job.stored_name, ""
        transaction.on_commit(lambda: evidence_storage().delete(name))


def imports_forget(*, emails: set[str], phones: set[str], names: set[str]) -> int:
    """Remove the rows of pending imports that carry one of these people's email, phone or name
    (as registry_io.identity_text and phone_digits give them): from the checked sites, from the
    error reports, and from files not checked yet, which are rewritten without those rows.
    Returns how many rows went."""
    removed = 0
    pending = ImportJob.objects.select_for_update().exclude(
        status__in=[ImportJob.Status.DONE, ImportJob.Status.CANCELLED, ImportJob.Status.EXPIRED]
    )
    for job in pending:
        doomed = [
            site.pk
            for site in job.sites.all()
            if registry_io.carries(site.fields, emails, phones, names)
        ]
        if doomed:
            removed += ImportSite.objects.filter(pk__in=doomed).delete()[0]
            job.site_count = job.sites.count()
        needles = [value for value in emails | phones | names if value]
        job.errors = [
            error
            for error in job.errors
            if not any(needle in registry_io.identity_text(error[1]) for needle in needles)
        ]
        if job.status == ImportJob.Status.CHECKING and job.stored_name:
            with evidence_storage().open(job.stored_name) as stored:
                rewritten = registry_io.records_without(
                    stored.read(), job.stored_name, emails=emails, phones=phones, names=names
                )
            if rewritten is None or rewritten[1]:
                # Unreadable files would fail their check anyway: nothing of them is kept.
                old_name = job.stored_name
                job.stored_name = ""
                if rewritten is not None:
                    removed += rewritten[1]
                    job.stored_name = evidence_storage().save(
                        city_path(IMPORT_FOLDER, f"{uuid.uuid4().hex}.csv"),
                        ContentFile(rewritten[0]),
                    )
                else:
                    job.status = ImportJob.Status.FAILED
                    job.errors = [[0, _("The file was withdrawn: an owner in it opted out.")]]
                job.revision += 1
                transaction.on_commit(functools.partial(evidence_storage().delete, old_name))
        job.save()
    return removed


def imports_sweep(*, now: datetime) -> int:
    """Delete what abandoned imports hold a day after they were uploaded: their files, checked
    rows and error reports, and files in the city's import folder that no job refers to.
    Returns how many jobs were swept. Safe to run again."""
    cutoff = now - IMPORT_KEPT_FOR
    swept = 0
    stale = ImportJob.objects.filter(created_at__lt=cutoff).exclude(
        status__in=[ImportJob.Status.DONE, ImportJob.Status.CANCELLED, ImportJob.Status.EXPIRED]
    )
    for job_id in list(stale.values_list("pk", flat=True)):
        with transaction.atomic():
            job = ImportJob.objects.select_for_update().get(pk=job_id)
            if job.status == ImportJob.Status.FAILED and not job.errors and not job.stored_name:
                continue
            if job.status in (ImportJob.Status.DONE, ImportJob.Status.CANCELLED):
                continue  # confirmed or cancelled since it was read: nothing is abandoned
            if job.status == ImportJob.Status.EXPIRED:
                continue  # a concurrent sweep took it first
            if job.status != ImportJob.Status.FAILED:
                job.status = ImportJob.Status.EXPIRED
            job.errors, job.finished_at = [], job.finished_at or now
            job.sites_drop()
            _import_file_delete(job)
            job.save()
            swept += 1
    storage = evidence_storage()
    folder = city_path(IMPORT_FOLDER)
    if storage.exists(folder):
        kept = set(ImportJob.objects.exclude(stored_name="").values_list("stored_name", flat=True))
        for filename in storage.listdir(folder)[1]:
            name = f"{folder}/{filename}"
            if name not in kept and storage.get_modified_time(name) < cutoff:
                storage.delete(name)
    return swept


def registry_for_export(*, actor: Actor, file_format: str) -> QuerySet[Site]:
    """The searchable registry (locations and cameras, no contact details) for an export, after
    recording the export: the caller streams the rows."""
    audit_record(
        actor=actor, action=AuditEntry.Action.EXPORT, reason=f"Registry export ({file_format})"
    )
    return Site.objects.searchable().with_active_cameras().order_by("pk")


def audit_trail_for_export(
    *, actor: Actor, entries: QuerySet[AuditEntry] | None = None, filters: str = ""
) -> QuerySet[AuditEntry]:
    """The audit trail in order (`entries`, filtered by the caller, else all of it), for the
    council or an auditor, after recording the export itself with the filters in words (an
    entry the export then holds too when the filters keep it)."""
    reason = "Audit trail export (CSV)" + (f": {filters}" if filters else "")
    audit_record(actor=actor, action=AuditEntry.Action.EXPORT, reason=reason)
    return (AuditEntry.objects.all() if entries is None else entries).order_by("at", "pk")
