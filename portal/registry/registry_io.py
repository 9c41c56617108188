"""The registry as files: CSV and GeoJSON out (OpenStreetMap surveillance tags), CSV and GeoJSON
in (departments arrive with spreadsheets from web forms), checked row by row."""

from __future__ import annotations

import csv
import ctypes
import io
import json
import logging
import multiprocessing
import os
import re
import signal
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connections, models
from django.utils.translation import gettext as _

from portal.registry.csv_safe import SafeDictWriter
from portal.registry.forms import (
    CAMERA_FIELD_CLEANERS,
    SITE_FIELD_CLEANERS,
    CameraForm,
    SiteForm,
    site_fields_kept,
    site_problems,
)
from portal.registry.models import Camera, Site
from tenants.models import Program
from tenants.services import account_email_too_long

# One row per camera; a site's fields repeat on each of its cameras' rows.
COLUMNS = [
    "site_ref",
    "address",
    "latitude",
    "longitude",
    "site_type",
    "participation",
    "contact_name",
    "contact_phone",
    "contact_email",
    "camera_label",
    "camera_direction",
    "camera_sees",
    "camera_mount",
    "camera_recording",
    "camera_retention_days",
    "camera_night_vision",
]
REQUIRED = {"address", "latitude", "longitude", "contact_name", "contact_email", "camera_label"}
MAX_IMPORT_BYTES = 20 * 1024 * 1024
MAX_IMPORT_ROWS = 100_000

# What a camera sees, as OpenStreetMap's surveillance:zone; its mount as camera:mount.
OSM_ZONE = {
    "street": "traffic",
    "sidewalk": "town",
    "alley": "town",
    "driveway": "area",
    "parking": "parking",
    "entrance": "building",
}
OSM_MOUNT = {
    "wall": "wall",
    "ceiling": "ceiling",
    "pole": "pole",
    "doorbell": "wall",
    "window": "building",
}


def export_rows(sites: Iterable[Site]) -> Iterator[dict[str, object]]:
    """Locations and facts of the active cameras (Site.active_cameras), one row per camera;
    never the owners' contact details."""
    for site in sites:
        for camera in site.active_cameras:
            yield {
                "site_ref": site.pk,
                "address": site.address,
                "latitude": site.latitude,
                "longitude": site.longitude,
                "site_type": site.kind,
                "participation": site.participation,
                "contact_name": "",
                "contact_phone": "",
                "contact_email": "",
                "camera_label": camera.label,
                "camera_direction": camera.direction,
                "camera_sees": ";".join(camera.sees),
                "camera_mount": camera.mount,
                "camera_recording": camera.recording,
                "camera_retention_days": camera.retention_days,
                "camera_night_vision": "yes" if camera.night_vision else "no",
            }


def export_csv(sites: Iterable[Site]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = SafeDictWriter(buffer, fieldnames=COLUMNS)
    writer.writeheader()
    for row in export_rows(sites):
        writer.writerow(row)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


def export_geojson(sites: Iterable[Site]) -> dict[str, object]:
    """A FeatureCollection of the active cameras (Site.active_cameras), tagged as
    OpenStreetMap maps surveillance cameras."""
    features = []
    for site in sites:
        for camera in site.active_cameras:
            zones = sorted({OSM_ZONE[value] for value in camera.sees if value in OSM_ZONE})
            features.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [site.longitude, site.latitude]},
                    "properties": {
                        "man_made": "surveillance",
                        "surveillance": "outdoor",
                        "surveillance:type": "camera",
                        "camera:type": "fixed",
                        "camera:direction": str(camera.direction),
                        "camera:mount": OSM_MOUNT.get(camera.mount, camera.mount),
                        "surveillance:zone": ";".join(zones),
                        "canvass:site": site.pk,
                        "canvass:participation": site.participation,
                    },
                }
            )
    return {"type": "FeatureCollection", "features": features}


# Import: rows are checked by the resident portal's own forms (SiteForm, CameraForm), so that an
# imported site obeys every length and range limit a registered one does.

# Column -> form field, for the rows' messages (which name the file's columns).
SITE_COLUMNS = {
    "address": "address",
    "latitude": "latitude",
    "longitude": "longitude",
    "site_type": "kind",
    "contact_name": "contact_name",
    "contact_phone": "contact_phone",
    "contact_email": "contact_email",
}
# Form field -> column.
FIELD_COLUMNS = {field: column for column, field in SITE_COLUMNS.items()}
# Every control character (C0, DEL, C1), tab and line breaks included: no imported value is
# multi-line text, and NUL cannot be stored by PostgreSQL at all.
CONTROL_CHARACTERS = re.compile("[\x00-\x1f\x7f-\x9f]")
# Nesting deeper than this is no GeoJSON point file; refusing it before parsing keeps the
# JSON parser from running out of stack.
MAX_JSON_DEPTH = 64
# Errors kept in a report: the first ones say what is wrong; a million copies add nothing.
MAX_REPORTED_ERRORS = 1_000
PROGRESS_EVERY = 1_000
# Verdicts a row checker keeps per field (RowChecker._clean), at most.
MAX_KEPT_VERDICTS = 2_000
# Rows a checking process checks at a time (checked_rows): small enough that progress and the
# two processes' shares stay even, large enough that handing a chunk over costs nothing much.
CHECK_CHUNK_ROWS = 2_000

logger = logging.getLogger(__name__)


@dataclass
class ImportedSite:
    fields: dict[str, Any]
    cameras: list[dict[str, Any]] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, float, float]:
        return site_key(self.fields)


@dataclass
class ImportCheck:
    sites: list[ImportedSite]
    errors: list[tuple[int, str]]
    rows: int
    error_count: int = 0

    def __post_init__(self) -> None:
        self.error_count = max(self.error_count, len(self.errors))

    @property
    def ok(self) -> bool:
        return not self.errors and bool(self.sites)


class FileError(Exception):
    """The file as a whole cannot be read; the message says why, for the department."""

    def __init__(self, message: str, row: int = 0) -> None:
        super().__init__(message)
        self.row = row


def site_key(fields: dict[str, Any]) -> tuple[str, float, float]:
    """What makes a site the same site: its address and coordinates."""
    return (fields["address"], float(fields["latitude"]), float(fields["longitude"]))


def registered_site_keys() -> set[tuple[str, float, float]]:
    """The keys of the sites already in the registry (an import may not add them twice)."""
    return {
        (address, latitude, longitude)
        for address, latitude, longitude in Site.objects.values_list(
            "address", "latitude", "longitude"
        )
    }


def _json_depth_exceeds(text: str, limit: int) -> bool:
    """Whether brackets outside strings nest deeper than `limit` (a linear scan, no parsing)."""
    depth = 0
    in_string = escaped = False
    for character in text:
        if in_string:
            if escaped:
                escaped = False
            elif character == "\\":
                escaped = True
            elif character == '"':
                in_string = False
        elif character == '"':
            in_string = True
        elif character in "[{":
            depth += 1
            if depth > limit:
                return True
        elif character in "]}":
            depth -= 1
    return False


def _geojson_records(text: str) -> list[dict[str, Any]]:
    if _json_depth_exceeds(text, MAX_JSON_DEPTH):
        raise FileError(
            _("The GeoJSON nests arrays or objects more than %(depth)s levels deep.")
            % {"depth": MAX_JSON_DEPTH}
        )
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise FileError(_("The file is not valid JSON: %(error)s") % {"error": error}) from error
    features = data.get("features") if isinstance(data, dict) else None
    if not isinstance(features, list):
        raise FileError(_("The file is not a GeoJSON FeatureCollection: it has no features list."))
    if len(features) > MAX_IMPORT_ROWS:
        raise FileError(_("More than 100,000 rows; split the file."))
    records = []
    for number, feature in enumerate(features, start=1):
        geometry = feature.get("geometry") if isinstance(feature, dict) else None
        coordinates = geometry.get("coordinates") if isinstance(geometry, dict) else None
        if (
            not isinstance(coordinates, list)
            or len(coordinates) < 2
            or not all(isinstance(value, int | float) for value in coordinates[:2])
        ):
            raise FileError(
                _("Feature %(number)s is not a point: its geometry has no coordinates.")
                % {"number": number}
            )
        properties = feature.get("properties")
        if properties is None:
            properties = {}
        if not isinstance(properties, dict):
            raise FileError(
                _("Feature %(number)s: its properties must be an object of named values.")
                % {"number": number}
            )
        record: dict[str, Any] = {}
        for name, value in properties.items():
            if isinstance(value, dict | list):
                raise FileError(
                    _("Feature %(number)s: the property %(name)s must be text or a number.")
                    % {"number": number, "name": name[:50]}
                )
            record[name] = "" if value is None else str(value)
        longitude, latitude = coordinates[:2]
        records.append(record | {"latitude": str(latitude), "longitude": str(longitude)})
    return records


def _csv_records(text: str) -> list[dict[str, Any]]:
    reader = csv.DictReader(io.StringIO(text))
    try:
        header = set(reader.fieldnames or [])
        missing = sorted(REQUIRED - header)
        if missing:
            raise FileError(
                _("Missing columns: %(columns)s.") % {"columns": ", ".join(missing)}, row=1
            )
        unknown = sorted(header - set(COLUMNS))
        if unknown:
            shown = ", ".join(CONTROL_CHARACTERS.sub("?", name)[:50] for name in unknown[:10])
            raise FileError(_("Unknown columns: %(columns)s.") % {"columns": shown}, row=1)
        records = []
        for record in reader:
            records.append(record)
            if len(records) > MAX_IMPORT_ROWS:
                raise FileError(_("More than 100,000 rows; split the file."))
        return records
    except csv.Error as error:
        if "field larger than field limit" in str(error):
            message = _("A cell is longer than %(limit)s characters.") % {
                "limit": f"{csv.field_size_limit():,}"
            }
        else:
            message = _("The CSV is malformed: %(error)s") % {"error": error}
        raise FileError(message, row=reader.line_num) from error


def _records(content: bytes, filename: str) -> list[dict[str, Any]]:
    """The file's rows as dicts of the COLUMNS; a FileError says why the file cannot be read."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise FileError(_("The file is not UTF-8 text.")) from error
    if is_geojson(filename):
        return _geojson_records(text)
    return _csv_records(text)


def is_geojson(filename: str) -> bool:
    return filename.lower().endswith((".geojson", ".json"))


def model_field(model: type[models.Model], name: str) -> models.Field[Any, Any]:
    """A model's concrete field by name."""
    found = model._meta.get_field(name)
    assert isinstance(found, models.Field)
    return found


class FieldPlan(NamedTuple):
    """One form field's checks, as RowChecker runs them, and its verdicts kept by raw value."""

    name: str
    form_field: forms.Field
    stored: models.Field[Any, Any]
    cleaner: Callable[[Any], Any] | None
    # The form field ran each of the model field's validators, and nothing changed its value
    # since (no cleaner): the model's validation adds only Field.validate's own checks.
    validated_by_form: bool
    # And those checks (choices, null, blank) cannot fail on a value that is not empty: the
    # model field keeps Field.validate and has no choices.
    nothing_more_if_filled: bool
    verdicts: dict[Any, tuple[bool, Any]]


class RowChecker:
    """Checks rows with the resident forms' own field definitions, taken once from a SiteForm
    and a CameraForm: each field's clean(), the forms' per-field cleaners (the phone), the
    model fields' validation as a ModelForm runs it, and the site's rules across fields
    (forms.site_problems). Every rule the forms apply, without building or binding a form for
    each row, which cost most of an import's time."""

    def __init__(self, program: Program) -> None:
        self.program = program
        self.site_fields = SiteForm(program=program, ask_terms=False).fields
        self.camera_fields = CameraForm().fields
        # The form fields that run every validator of the model field they stand for.
        self.validated_by_form = {
            id(form_field)
            for model, fields in ((Site, self.site_fields), (Camera, self.camera_fields))
            for name, form_field in fields.items()
            if all(
                validator in form_field.validators
                for validator in model_field(model, name).validators
            )
        }
        # Each field's checks, taken once: (name, form field, model, cleaner, kept verdicts).
        self.site_plan = self._plan(self.site_fields, Site, SITE_FIELD_CLEANERS)
        self.camera_plan = self._plan(self.camera_fields, Camera, CAMERA_FIELD_CLEANERS)

    def _plan(
        self,
        fields: Mapping[str, forms.Field],
        model: type[models.Model],
        cleaners: Mapping[str, Callable[[Any], Any]],
    ) -> list[FieldPlan]:
        plan = []
        for name, form_field in fields.items():
            stored = model_field(model, name)
            cleaner = cleaners.get(name)
            by_form = cleaner is None and id(form_field) in self.validated_by_form
            plain = type(stored).validate is models.Field.validate and stored.choices is None
            plan.append(
                FieldPlan(name, form_field, stored, cleaner, by_form, by_form and plain, {})
            )
        return plan

    def _clean(
        self, plan: list[FieldPlan], data: Mapping[str, Any]
    ) -> tuple[dict[str, Any], dict[str, list[str]]]:
        """The fields' cleaned values and, for the fields that failed, their messages: what
        a bound ModelForm's cleaned_data and errors would hold before its clean()."""
        cleaned: dict[str, Any] = {}
        errors: dict[str, list[str]] = {}
        for field_plan in plan:
            name, verdicts = field_plan.name, field_plan.verdicts
            raw = data.get(name)
            # A field's verdict on a value is kept: most columns repeat a few values (a type,
            # a mount, a retention), a site's fields repeat on each of its cameras' rows, and
            # a field's checks depend on its value alone.
            key = tuple(raw) if isinstance(raw, list) else raw
            verdict = verdicts.get(key)
            if verdict is None:
                verdict = self._field_verdict(field_plan, raw)
                if len(verdicts) >= MAX_KEPT_VERDICTS:
                    # A column of distinct values (an address, an email) gains nothing from
                    # keeping them all: the most recent ones are kept, as a site's rows follow
                    # each other.
                    verdicts.clear()
                verdicts[key] = verdict
            valid, outcome = verdict
            if valid:
                cleaned[name] = list(outcome) if isinstance(outcome, list) else outcome
            else:
                errors[name] = list(outcome)
        return cleaned, errors

    @staticmethod
    def _field_verdict(field_plan: FieldPlan, raw: Any) -> tuple[bool, Any]:
        """(True, the cleaned value) or (False, the messages) for one field's raw value."""
        form_field, stored, cleaner = field_plan.form_field, field_plan.stored, field_plan.cleaner
        try:
            value = form_field.clean(raw)
            if cleaner is not None:
                value = cleaner(value)
            filled = value not in stored.empty_values
            # ModelForm's model validation: skipped where the model allows the field blank
            # and it is, or the form may leave it empty and the model may not.
            if filled and field_plan.nothing_more_if_filled:
                pass  # Field.validate on a filled value without choices checks nothing more
            elif filled or not (stored.blank or not form_field.required):
                if field_plan.validated_by_form:
                    # The form field ran each of the model field's validators on this value.
                    stored.validate(stored.to_python(value), None)
                else:
                    stored.clean(value, None)
        except ValidationError as error:
            return False, [str(message) for message in error.messages]
        return True, value

    def check(self, record: dict[Any, Any]) -> tuple[list[str], dict[str, Any], dict[str, Any]]:
        """A row's messages, or its site's and camera's cleaned fields. (csv.DictReader puts
        the cells beyond the header under the key None.)"""
        if record.get(None):
            return [_("The row has more cells than the header has columns.")], {}, {}
        values = {
            column: (record.get(column) or "").strip() for column in COLUMNS if column != "site_ref"
        }
        # One search over the whole row; the columns are looked at only when it finds one.
        if CONTROL_CHARACTERS.search("".join(values.values())):
            return (
                [
                    _("%(column)s contains a control character (%(code)s); remove it.")
                    % {"column": column, "code": f"U+{ord(found.group()):04X}"}
                    for column, value in values.items()
                    if (found := CONTROL_CHARACTERS.search(value))
                ],
                {},
                {},
            )
        errors: list[str] = []
        for column in ("address", "contact_name", "contact_email"):
            if not values[column]:
                errors.append(_("%(column)s is empty.") % {"column": column})
        # Every imported site is registered: integration is bought by the owner, never set by
        # a file (billing makes a site integrated when its device subscription is paid).
        participation = values["participation"].lower()
        if participation == Site.Participation.INTEGRATED:
            errors.append(
                _(
                    "participation: integration is bought by the owner through the portal; "
                    "import the site as registered."
                )
            )
        elif participation not in ("", Site.Participation.REGISTERED):
            errors.append(
                _("participation: “%(value)s” is not allowed; write registered or leave it empty.")
                % {"value": values["participation"][:40]}
            )
        site_data = {field: values[column] for column, field in SITE_COLUMNS.items()}
        site_data |= {
            "kind": values["site_type"] or Site.Kind.HOME,
            "contact_method": (
                Site.ContactMethod.PHONE if values["contact_phone"] else Site.ContactMethod.EMAIL
            ),
        }
        camera_data = {
            "label": values["camera_label"],
            "direction": values["camera_direction"] or "0",
            "sees": [v.strip() for v in values["camera_sees"].split(";") if v.strip()]
            or ["street"],
            "mount": values["camera_mount"] or Camera.Mount.WALL,
            "recording": values["camera_recording"] or Camera.Recording.MOTION,
            "retention_days": values["camera_retention_days"] or "7",
            "night_vision": values["camera_night_vision"].lower() in {"yes", "true", "1", "y"},
        }
        site, site_errors = self.site_check(site_data)
        for name, messages in site_errors.items():
            column = FIELD_COLUMNS.get(name, name)
            if column in ("address", "contact_name", "contact_email") and not values[column]:
                continue  # already said: "... is empty"
            errors.extend(f"{column}: {message}" for message in messages)
        email_refused = any(error.startswith("contact_email") for error in errors)
        # Each owner gets an account named by the email: no longer than a username may be.
        if not email_refused and (too_long := account_email_too_long(values["contact_email"])):
            errors.extend(f"contact_email: {message}" for message in too_long.messages)
        camera, camera_errors = self.camera_check(camera_data)
        for name, messages in camera_errors.items():
            errors.extend(f"camera_{name}: {message}" for message in messages)
        if errors:
            return errors, {}, {}
        return errors, site, camera

    def site_check(self, data: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, list[str]]]:
        """A site's fields as SiteForm would save them, or the messages by field that a bound
        SiteForm's errors would hold."""
        site, errors = self._clean(self.site_plan, data)
        for name, message in site_problems(self.program, site, errors):
            errors.setdefault(name, []).append(str(message))
            site.pop(name, None)
        return ({} if errors else site_fields_kept(site, self.site_fields)), errors

    def camera_check(self, data: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, list[str]]]:
        """A camera's fields as CameraForm would save them, or its messages by field."""
        camera, errors = self._clean(self.camera_plan, data)
        return ({} if errors else camera), errors


RowVerdict = tuple[list[str], dict[str, Any], dict[str, Any]]

# What a forked checking process checks (the checker and the parsed rows): set by the parent
# just before it forks its pool, so the children have it without its being sent to them.
_forked_work: tuple[RowChecker, list[dict[str, Any]]] | None = None
# The parent's database connections, as a checking process inherited them: kept referenced so
# that they are never closed there (closing one would end the parent's session on the socket
# they share).
_inherited_connections: list[object] = []
PR_SET_PDEATHSIG = 1


def _refuse_queries(*_arguments: object) -> None:
    raise RuntimeError("A row-checking process has no database access.")


def _checking_process_start(parent: int) -> None:
    """Run first in each forked checking process: it forgets the parent's database connections
    and refuses any query, and it ends when its parent does (a killed worker leaves no idle
    checking processes behind)."""
    for wrapper in connections.all():
        _inherited_connections.append(wrapper.connection)
        wrapper.connection = None
        wrapper.execute_wrappers.append(_refuse_queries)
    if sys.platform == "linux":
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:
        os._exit(1)  # the parent ended before the signal was asked for


@contextmanager
def _children_allowed() -> Iterator[None]:
    """multiprocessing refuses children to a daemonic process, and a Celery prefork worker's
    child is one (billiard marks it so, that it ends with its worker). The checking processes
    end with their parent too (_checking_process_start) and are joined before the job ends, so
    the refusal is lifted while they are forked."""
    config: dict[str, Any] = getattr(multiprocessing.current_process(), "_config", {})
    daemon = config.get("daemon")
    config["daemon"] = False
    try:
        yield
    finally:
        if daemon is None:
            config.pop("daemon", None)
        else:
            config["daemon"] = daemon


def _check_chunk(bounds: tuple[int, int]) -> list[RowVerdict]:
    """In a checking process: the verdicts on the parent's rows start to stop, in order."""
    assert _forked_work is not None
    checker, records = _forked_work
    return [checker.check(records[index]) for index in range(*bounds)]


def checked_rows(
    checker: RowChecker,
    records: list[dict[str, Any]],
    *,
    processes: int,
    chunk_rows: int | None = None,
) -> Iterator[RowVerdict]:
    """`checker.check(record)` for each record, in order. With more than one process and more
    than one chunk of rows, the chunks are checked in a pool of `processes` forked processes
    (they share nothing with the parent but what they inherit, and never touch the database);
    the verdicts come back in order as each chunk is done (`chunk_rows` rows a chunk, by
    default CHECK_CHUNK_ROWS). If no pool can be made (or it
    breaks), that is logged and the rows not yet given are checked in this process."""
    global _forked_work
    chunk_rows = chunk_rows or CHECK_CHUNK_ROWS
    chunks = [
        (start, min(start + chunk_rows, len(records)))
        for start in range(0, len(records), chunk_rows)
    ]
    given = 0  # chunks whose verdicts were given
    if processes > 1 and len(chunks) > 1:
        _forked_work = (checker, records)
        workers = min(processes, len(chunks))
        pool: ProcessPoolExecutor | None = None
        try:
            pool = ProcessPoolExecutor(
                max_workers=workers,
                mp_context=multiprocessing.get_context("fork"),
                initializer=_checking_process_start,
                initargs=(os.getpid(),),
            )
            with _children_allowed():
                # Every chunk is handed over here, and the processes forked with the first.
                chunk_verdicts = pool.map(_check_chunk, chunks)
            for verdicts in chunk_verdicts:
                yield from verdicts
                given += 1
            logger.info("Import check: %s rows checked in %s processes.", len(records), workers)
        except (OSError, AssertionError, BrokenProcessPool, RuntimeError) as error:
            # AssertionError: multiprocessing refuses children to a daemonic process.
            logger.warning(
                "Import check: no pool of %s checking processes (%s: %s); the remaining "
                "%s rows are checked in this process.",
                processes,
                type(error).__name__,
                error,
                len(records) - (chunks[given][0] if given < len(chunks) else len(records)),
            )
        finally:
            _forked_work = None
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)
    for start, stop in chunks[given:]:
        for index in range(start, stop):
            yield checker.check(records[index])


def import_check(
    content: bytes,
    filename: str,
    *,
    program: Program,
    progress: Callable[[int, int], None] | None = None,
    processes: int | None = None,
    chunk_rows: int | None = None,
) -> ImportCheck:
    """Parse and check every row; nothing is written. Rows of one site share its site_ref (or,
    without one, its address and coordinates). `progress(checked, total)` is called now and
    then. The rows' fields are checked in `processes` forked processes (by default the
    IMPORT_CHECK_PROCESSES setting; 1 checks them in this one); everything else, in order,
    here."""
    if len(content) > MAX_IMPORT_BYTES:
        return ImportCheck([], [(0, _("The file is larger than 20 MB; split it."))], 0)
    try:
        records = _records(content, filename)
    except FileError as error:
        return ImportCheck([], [(error.row, str(error))], 0)
    errors: list[tuple[int, str]] = []
    error_count = 0
    sites: dict[str, ImportedSite] = {}
    seen_cameras: set[tuple[str, str]] = set()
    existing = registered_site_keys()
    checker = RowChecker(program)

    def report(number: int, messages: Iterable[str]) -> None:
        nonlocal error_count
        for message in messages:
            error_count += 1
            if len(errors) < MAX_REPORTED_ERRORS:
                errors.append((number, message))

    if processes is None:
        processes = settings.IMPORT_CHECK_PROCESSES
    verdicts = checked_rows(checker, records, processes=processes, chunk_rows=chunk_rows)
    for index, (record, (row_errors, site_fields, camera_fields)) in enumerate(
        zip(records, verdicts, strict=True)
    ):
        number = index + 2  # the header is row 1; GeoJSON features count the same way
        if progress is not None and index % PROGRESS_EVERY == 0:
            progress(index, len(records))
        if row_errors:
            report(number, row_errors)
            continue
        ref = (record.get("site_ref") or "").strip()
        place = site_key(site_fields)
        key = ref or "|".join(str(part) for part in place)
        if place in existing:
            report(number, [_("This site is already in the registry.")])
            continue
        camera_key = (key, camera_fields["label"])
        if camera_key in seen_cameras:
            report(number, [_("Duplicate row: this camera appears twice for the site.")])
            continue
        seen_cameras.add(camera_key)
        imported = sites.get(key)
        if imported is None:
            imported = sites[key] = ImportedSite(fields=site_fields)
        imported.cameras.append(camera_fields)
        imported.rows.append(number)
    if progress is not None:
        progress(len(records), len(records))
    if not records:
        report(0, [_("The file has no rows.")])
    return ImportCheck(list(sites.values()), errors, len(records), error_count)


def records_without(
    content: bytes, filename: str, *, emails: set[str], phones: set[str], names: set[str]
) -> tuple[bytes, int] | None:
    """The file rewritten as CSV without the rows that carry one of these emails, phones or
    names (compared without case), and how many rows went; None if the file cannot be read."""
    try:
        records = _records(content, filename)
    except FileError:
        return None
    kept = [record for record in records if not carries(record, emails, phones, names)]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, extrasaction="ignore")
    writer.writeheader()
    writer.writerows({k: v for k, v in record.items() if k is not None} for record in kept)
    return buffer.getvalue().encode(), len(records) - len(kept)


def carries(record: dict[str, Any], emails: set[str], phones: set[str], names: set[str]) -> bool:
    """Whether a row (raw or checked) names one of these people: `emails` and `names` as
    `identity_text` gives them, `phones` as `phone_digits` does."""
    found = (
        (identity_text(record.get("contact_email")), emails),
        (identity_text(record.get("contact_name")), names),
        (phone_digits(record.get("contact_phone")), phones),
    )
    return any(value and value in people for value, people in found)


def identity_text(value: object) -> str:
    """A name or email as compared: without case, with single spaces."""
    return " ".join(str(value or "").split()).casefold()


def phone_digits(value: object) -> str:
    """A phone number's last ten digits (a US number without its country code), if it has at
    least seven: "(704) 555-0170" and "+17045550170" compare equal."""
    digits = "".join(character for character in str(value or "") if character.isdigit())
    return digits[-10:] if len(digits) >= 7 else ""
