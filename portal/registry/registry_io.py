"""The registry as files: CSV and GeoJSON out (OpenStreetMap surveillance tags), CSV and GeoJSON
in (departments arrive with spreadsheets from web forms), checked row by row."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from portal.registry.csv_safe import SafeDictWriter
from portal.registry.forms import CAMERA_FIELDS, CameraForm, phone_normalise
from portal.registry.models import Camera, Site
from tenants.models import Program

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
    """Locations and camera facts, one row per camera; never the owners' contact details."""
    for site in sites:
        for camera in site.cameras.all():
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
    """A FeatureCollection of cameras tagged as OpenStreetMap maps surveillance cameras."""
    features = []
    for site in sites:
        for camera in site.cameras.all():
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


@dataclass
class ImportedSite:
    fields: dict[str, Any]
    cameras: list[dict[str, Any]] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)


@dataclass
class ImportCheck:
    sites: list[ImportedSite]
    errors: list[tuple[int, str]]
    rows: int

    @property
    def ok(self) -> bool:
        return not self.errors and bool(self.sites)


def _records(content: bytes, filename: str) -> tuple[list[dict[str, str]], list[tuple[int, str]]]:
    """The file's rows as dicts of the COLUMNS, or a file-level error."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return [], [(0, _("The file is not UTF-8 text."))]
    if filename.lower().endswith((".geojson", ".json")):
        try:
            data = json.loads(text)
            features = data["features"]
            records = []
            for feature in features:
                longitude, latitude = feature["geometry"]["coordinates"][:2]
                properties = {
                    k: "" if v is None else str(v) for k, v in feature["properties"].items()
                }
                records.append(
                    properties | {"latitude": str(latitude), "longitude": str(longitude)}
                )
        except (ValueError, KeyError, TypeError, IndexError):
            return [], [(0, _("The file is not a GeoJSON FeatureCollection of points."))]
        return records, []
    reader = csv.DictReader(io.StringIO(text))
    header = set(reader.fieldnames or [])
    missing = sorted(REQUIRED - header)
    if missing:
        return [], [(1, _("Missing columns: %(columns)s.") % {"columns": ", ".join(missing)})]
    unknown = sorted(header - set(COLUMNS))
    if unknown:
        return [], [(1, _("Unknown columns: %(columns)s.") % {"columns": ", ".join(unknown)})]
    try:
        return list(reader), []
    except csv.Error as error:
        return [], [(reader.line_num, _("The CSV is malformed: %(error)s") % {"error": error})]


def import_check(content: bytes, filename: str, *, program: Program) -> ImportCheck:
    """Parse and check every row; nothing is written. Rows of one site share its site_ref (or,
    without one, its address and coordinates)."""
    if len(content) > MAX_IMPORT_BYTES:
        return ImportCheck([], [(0, _("The file is larger than 20 MB; split it."))], 0)
    records, errors = _records(content, filename)
    if errors:
        return ImportCheck([], errors, 0)
    if len(records) > MAX_IMPORT_ROWS:
        return ImportCheck([], [(0, _("More than 100,000 rows; split the file."))], len(records))
    sites: dict[str, ImportedSite] = {}
    seen_cameras: set[tuple[str, str]] = set()
    existing = set(Site.objects.values_list("address", "latitude", "longitude"))
    for number, record in enumerate(records, start=2):
        row_errors, site_fields, camera_fields = _check_row(record, program)
        if row_errors:
            errors.extend((number, message) for message in row_errors)
            continue
        key = (
            record.get("site_ref")
            or f"{site_fields['address']}|{site_fields['latitude']}|{site_fields['longitude']}"
        )
        if (site_fields["address"], site_fields["latitude"], site_fields["longitude"]) in existing:
            errors.append((number, _("This site is already in the registry.")))
            continue
        if (key, camera_fields["label"]) in seen_cameras:
            errors.append((number, _("Duplicate row: this camera appears twice for the site.")))
            continue
        seen_cameras.add((key, camera_fields["label"]))
        imported = sites.setdefault(key, ImportedSite(fields=site_fields))
        imported.cameras.append(camera_fields)
        imported.rows.append(number)
    if not records:
        errors.append((0, _("The file has no rows.")))
    return ImportCheck(list(sites.values()), errors, len(records))


def _check_row(record: dict[str, str], program: Program) -> tuple[list[str], dict, dict]:
    errors: list[str] = []
    get = lambda name: (record.get(name) or "").strip()  # noqa: E731
    site: dict[str, Any] = {"address": get("address")[:200], "contact_name": get("contact_name")}
    for name in ("address", "contact_name", "contact_email"):
        if not get(name):
            errors.append(_("%(column)s is empty.") % {"column": name})
    try:
        latitude, longitude = float(get("latitude")), float(get("longitude"))
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            raise ValueError
    except ValueError:
        errors.append(_("latitude and longitude must be decimal degrees."))
    else:
        if not program.covers(latitude, longitude):
            errors.append(_("The location is outside the department's service area."))
        site |= {"latitude": latitude, "longitude": longitude}
    site["kind"] = get("site_type") or Site.Kind.HOME
    if site["kind"] not in Site.Kind.values:
        errors.append(
            _("site_type must be one of: %(values)s.") % {"values": ", ".join(Site.Kind.values)}
        )
    site["participation"] = get("participation") or Site.Participation.REGISTERED
    if site["participation"] not in Site.Participation.values:
        errors.append(_("participation must be registered or integrated."))
    site["contact_email"] = get("contact_email")
    if site["contact_email"]:
        try:
            validate_email(site["contact_email"])
        except ValidationError:
            errors.append(_("contact_email is not an email address."))
    site["contact_method"] = (
        Site.ContactMethod.PHONE if get("contact_phone") else Site.ContactMethod.EMAIL
    )
    try:
        site["contact_phone"] = (
            phone_normalise(get("contact_phone")) if get("contact_phone") else ""
        )
    except ValidationError as error:
        errors.extend(error.messages)
    camera_form = CameraForm(
        data={
            "label": get("camera_label"),
            "direction": get("camera_direction") or "0",
            "sees": [v.strip() for v in get("camera_sees").split(";") if v.strip()] or ["street"],
            "mount": get("camera_mount") or Camera.Mount.WALL,
            "recording": get("camera_recording") or Camera.Recording.MOTION,
            "retention_days": get("camera_retention_days") or "7",
            "night_vision": get("camera_night_vision").lower() in {"yes", "true", "1", "y"},
        }
    )
    camera: dict[str, Any] = {}
    if camera_form.is_valid():
        camera = {name: camera_form.cleaned_data[name] for name in CAMERA_FIELDS}
    else:
        for name, messages in camera_form.errors.items():
            errors.extend(f"camera_{name}: {message}" for message in messages)
    return errors, site, camera
