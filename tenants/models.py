"""Departments (the tenants), their domains, branding and program settings; public schema."""

from __future__ import annotations

import functools
import math
import zoneinfo
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, TypeVar

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.validators import (
    MaxValueValidator,
    MinLengthValidator,
    MinValueValidator,
    RegexValidator,
)
from django.db import connection, models
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from django_tenants.models import DomainMixin, TenantMixin
from django_tenants.utils import (
    get_creation_fakes_migrations,
    get_public_schema_name,
    schema_exists,
)

from tenants.database import database_owner
from tenants.db import tenant_connection
from tenants.schema_clone import schema_clone
from tenants.storage import logo_prefix
from tenants.validators import validate_logo

EARTH_RADIUS_M = 6_371_008.8
LANGUAGE_CHOICES = [("en", "English"), ("es", "Español")]

# The offence types a new department starts with (Program.offence_types); its administrator
# edits the list on the console's settings page. Codes are stable: entries and incidents keep them.
DEFAULT_OFFENCE_TYPES: list[dict[str, str]] = [
    {"code": "burglary", "label": "Burglary"},
    {"code": "robbery", "label": "Robbery"},
    {"code": "assault", "label": "Assault"},
    {"code": "vehicle_crime", "label": "Vehicle crime"},
    {"code": "vandalism", "label": "Vandalism"},
    {"code": "missing_person", "label": "Missing person"},
    {"code": "traffic_collision", "label": "Traffic collision"},
    {"code": "homicide", "label": "Homicide"},
    {"code": "other", "label": "Other"},
]


def default_offence_types() -> list[dict[str, str]]:
    return [dict(offence) for offence in DEFAULT_OFFENCE_TYPES]


# The reasons staff may give to open a live view. An emergency reason is the only kind a camera
# shared "in emergencies only" accepts, and the only kind whose notice to the owner may be delayed.
DEFAULT_LIVE_REASONS: list[dict[str, str | bool]] = [
    {"code": "active_threat", "label": "Active threat", "emergency": True},
    {"code": "missing_person", "label": "Missing or endangered person", "emergency": True},
    {"code": "crime_in_progress", "label": "Crime in progress", "emergency": True},
    {"code": "serious_collision", "label": "Serious collision", "emergency": True},
    {"code": "investigation", "label": "Investigation follow-up", "emergency": False},
]


def default_live_reasons() -> list[dict[str, str | bool]]:
    return [dict(reason) for reason in DEFAULT_LIVE_REASONS]


hex_colour = RegexValidator(
    r"^#[0-9a-fA-F]{6}$", _("Enter a color as # followed by six hex digits, e.g. #1d4ed8.")
)


@functools.cache
def time_zone_names() -> frozenset[str]:
    """The IANA names this machine knows; reading them walks the zone files (tens of ms)."""
    return frozenset(zoneinfo.available_timezones())


def validate_time_zone(value: str) -> None:
    if value not in time_zone_names():
        raise ValidationError(
            _("“%(value)s” is not a time zone; use a name such as America/New_York."),
            params={"value": value},
        )


# The comment on a schema made apart (migrated, not cloned) until its provisioning commits.
PROVISIONING_MARK = "canvass: provisioning not finished"

_Kept = TypeVar("_Kept", bound=models.Model)


class HostsQuerySet(models.QuerySet[_Kept]):
    """Rows the host lookup keeps in each process (tenants.middleware.department_for_host): an
    update in bulk tells it, as each save and deletion does (TenantsConfig.ready)."""

    def update(self, **kwargs: Any) -> int:
        from tenants.middleware import hosts_changed

        updated = super().update(**kwargs)
        hosts_changed()
        return updated


class DepartmentQuerySet(HostsQuerySet["Department"]):
    def cities(self) -> DepartmentQuerySet:
        """Every department, without the platform's own public-schema row."""
        return self.exclude(schema_name=get_public_schema_name())

    def serving(self) -> DepartmentQuerySet:
        """The departments whose portals are open and whose scheduled jobs run: neither
        suspended nor still being provisioned. THE rule for "does work run for this city"."""
        return self.cities().filter(status=Department.Status.ACTIVE)

    def listed(self) -> DepartmentQuerySet:
        """The departments the platform site's directory shows: serving, and not taken out by
        their administrators (Department.listed)."""
        return self.serving().filter(listed=True)

    def provisioned(self) -> DepartmentQuerySet:
        """The departments whose schema holds their data, suspended ones included: what checks
        that read data but change nothing (audit_verify) go through."""
        return self.cities().exclude(status=Department.Status.PROVISIONING)


class Department(TenantMixin):
    """One city's police department: a tenant with its own PostgreSQL schema."""

    class Status(models.TextChoices):
        # Being provisioned (its schema, portal or first administrator not ready yet): no
        # portal, no jobs.
        PROVISIONING = "provisioning", _("Being provisioned")
        ACTIVE = "active", _("Active")
        # Suspended by the vendor: the portal shows a notice, sign-ins are refused, the data is
        # kept and the scheduled jobs skip it until it is reactivated.
        SUSPENDED = "suspended", _("Suspended")

    name: models.CharField[str, str] = models.CharField(
        _("name"),
        max_length=100,
        validators=[MinLengthValidator(2)],
        help_text=_("The department's official name, e.g. Concord Police Department."),
    )
    # The name in Spanish for Spanish-speaking visitors ("Departamento de Policía de Concord");
    # empty: the official name in every language (name_in).
    name_es: models.CharField[str, str] = models.CharField(
        _("name (Spanish)"), max_length=100, blank=True
    )
    city: models.CharField[str, str] = models.CharField(_("city"), max_length=100)
    state: models.CharField[str, str] = models.CharField(
        _("state"),
        max_length=2,
        validators=[RegexValidator(r"^[A-Z]{2}$", _("Use the two-letter state code, e.g. NC."))],
    )
    time_zone: models.CharField[str, str] = models.CharField(
        _("time zone"), max_length=64, default="America/New_York", validators=[validate_time_zone]
    )
    status: models.CharField[str, str] = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE
    )
    created_at: models.DateTimeField[datetime, datetime] = models.DateTimeField(auto_now_add=True)
    # Shown in the platform site's directory of participating cities while it is serving; the
    # department's administrators may take it out (residents then need the department's link).
    listed: models.BooleanField[bool, bool] = models.BooleanField(
        _("listed in the directory"),
        default=True,
        help_text=_("Show this program in the platform's directory of participating cities."),
    )

    # Provisioning creates the schema itself (cloned from the template) inside its transaction.
    auto_create_schema = True
    auto_drop_schema = False
    # Set when create_schema made the schema on the owner's connection, outside the caller's
    # transaction (tenants.services.department_provision undoes it on failure).
    schema_created_apart = False

    objects = DepartmentQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def name_in(self, language: str | None) -> str:
        """The department's name in `language`, the official one where it has none."""
        return (self.name_es if language == "es" else "") or self.name

    @property
    def is_platform(self) -> bool:
        return self.schema_name == get_public_schema_name()

    @property
    def is_serving(self) -> bool:
        """Its portal open and its jobs running: one department's answer to
        DepartmentQuerySet.serving() (the platform's own row is always open)."""
        return self.status == self.Status.ACTIVE

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        """The city's time zone: times are typed, shown and emailed in it."""
        return zoneinfo.ZoneInfo(self.time_zone or "UTC")

    @contextmanager
    def in_time_zone(self) -> Iterator[None]:
        """Run a block (a job, a command's turn for this city) in the city's local time, so
        that typed times are read and shown times are written in it; restores the previous zone
        afterwards. Requests get it from tenants.middleware.DepartmentMiddleware."""
        with timezone.override(self.zone):
            yield

    def create_schema(
        self, check_if_exists: bool = False, sync_schema: bool = True, verbosity: int = 1
    ) -> bool:
        """Clone the template through the owner's function (tenants.schema_clone), in the
        current transaction. Without a template, with cloning switched off, or with a template
        that function cannot copy, migrate the new schema as the owner instead: that schema is
        committed at once, and provisioning drops it again if its own transaction fails."""
        template: str = self.get_base_schema() if get_creation_fakes_migrations() else ""
        if check_if_exists and schema_exists(self.schema_name):
            return False
        if sync_schema and template and schema_exists(template) and schema_clone(self.schema_name):
            return True
        self.schema_created_apart = True
        with database_owner(), connection.cursor() as cursor:
            # Created with the mark of an unfinished provisioning, in one statement: a process
            # killed before its provisioning commits leaves a marked schema that
            # tenants.services.provisioning_leftovers_sweep drops.
            cursor.execute(
                f'CREATE SCHEMA "{self.schema_name}"; '
                f"COMMENT ON SCHEMA \"{self.schema_name}\" IS '{PROVISIONING_MARK}'"
            )
            if sync_schema:
                call_command(
                    "migrate_schemas",
                    tenant=True,
                    schema_name=self.schema_name,
                    interactive=False,
                    verbosity=verbosity,
                )
            tenant_connection.set_schema_to_public()
        return True

    @cached_property
    def primary_domain(self) -> str | None:
        return self.domains.filter(is_primary=True).values_list("domain", flat=True).first()

    def url(self, path: str = "/") -> str:
        """An absolute URL on the department's primary domain, for emails and links."""
        port = f":{settings.PORTAL_URL_PORT}" if settings.PORTAL_URL_PORT else ""
        return f"{settings.PORTAL_URL_SCHEME}://{self.primary_domain}{port}{path}"


class Domain(DomainMixin):
    """A host name that serves one department's portal (or, for public, the platform site)."""

    objects = HostsQuerySet["Domain"].as_manager()


def current_department() -> Department:
    """The department whose schema the connection is set to: the routed request's, a job's or
    a command's (schema_context alone sets only a name, so the row is read then)."""
    tenant = tenant_connection.tenant
    if isinstance(tenant, Department):
        return tenant
    return Department.objects.select_related("branding", "program").get(
        schema_name=tenant_connection.schema_name
    )


def logo_path(branding: Branding, filename: str) -> str:
    """Public storage, in the city's own folder (tenants.storage.logo_prefix), so that a
    department's logos can be removed without touching another's."""
    extension = filename.rsplit(".", 1)[-1].lower()
    return f"{logo_prefix(branding.department.schema_name)}logo.{extension}"


class Branding(models.Model):
    """How a department's portal looks: name, logo, colours, welcome text, languages."""

    department = models.OneToOneField(Department, on_delete=models.CASCADE, related_name="branding")
    display_name = models.CharField(
        _("display name"),
        max_length=100,
        validators=[MinLengthValidator(2)],
        help_text=_("The program's public name, e.g. Concord Community Camera Registry."),
    )
    logo = models.ImageField(_("logo"), upload_to=logo_path, blank=True, validators=[validate_logo])
    primary_color = models.CharField(
        _("primary color"), max_length=7, default="#1d4ed8", validators=[hex_colour]
    )
    accent_color = models.CharField(
        _("accent color"), max_length=7, default="#f59e0b", validators=[hex_colour]
    )
    # The program's name for Spanish-speaking visitors; empty: display_name (display_name_in).
    display_name_es = models.CharField(_("display name (Spanish)"), max_length=100, blank=True)
    welcome_en = models.TextField(_("welcome text (English)"), max_length=2000, blank=True)
    welcome_es = models.TextField(_("welcome text (Spanish)"), max_length=2000, blank=True)
    languages = ArrayField(
        models.CharField(max_length=5, choices=LANGUAGE_CHOICES),
        verbose_name=_("languages"),
        default=list,
        help_text=_("The languages the portal offers; the first is the default."),
    )
    # The resident portal's privacy page and contact page (portal.residents.account_views),
    # per language like the welcome text; empty, the pages say what the system itself does.
    privacy_en = models.TextField(_("privacy notice (English)"), max_length=20_000, blank=True)
    privacy_es = models.TextField(_("privacy notice (Spanish)"), max_length=20_000, blank=True)
    contact_en = models.TextField(_("contact details (English)"), max_length=2000, blank=True)
    contact_es = models.TextField(_("contact details (Spanish)"), max_length=2000, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=30, blank=True)
    contact_email = models.EmailField(_("contact email"), max_length=254, blank=True)

    objects = HostsQuerySet["Branding"].as_manager()

    def __str__(self) -> str:
        return self.display_name

    def clean(self) -> None:
        if not self.languages:
            raise ValidationError({"languages": _("Choose at least one language.")})
        if len(set(self.languages)) != len(self.languages):
            raise ValidationError({"languages": _("Each language may be listed once.")})

    def display_name_in(self, language: str | None) -> str:
        """The program's name in `language`, the English one where it has none."""
        return (self.display_name_es if language == "es" else "") or self.display_name

    def welcome_text(self, language: str) -> str:
        return (self.welcome_es if language == "es" else self.welcome_en) or self.welcome_en

    def privacy_text(self, language: str) -> str:
        return (self.privacy_es if language == "es" else self.privacy_en) or self.privacy_en

    def contact_text(self, language: str) -> str:
        return (self.contact_es if language == "es" else self.contact_en) or self.contact_en

    @property
    def default_language(self) -> str:
        return self.languages[0] if self.languages else "en"

    @property
    def on_primary_color(self) -> str:
        """Text colour on the primary colour with the higher WCAG contrast (white or ink)."""
        white, ink = (
            contrast_ratio(self.primary_color, "#ffffff"),
            contrast_ratio(self.primary_color, "#111827"),
        )
        return "#ffffff" if white >= ink else "#111827"


def _luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_ratio(first: str, second: str) -> float:
    """WCAG 2.1 contrast ratio of two #rrggbb colours (1 to 21)."""
    lighter, darker = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


# Program.geocoder's choices: the services that find places by address
# (portal.registry.geocoding).
GEOCODER_CHOICES = [
    ("none", _("None: people place the pin on the map")),
    ("nominatim", _("OpenStreetMap (Nominatim)")),
    ("census", _("US Census Bureau")),
    ("gazetteer", _("Local street list (demo)")),
]


class Program(models.Model):
    """A department's program settings: where it serves and what it aims for."""

    department = models.OneToOneField(Department, on_delete=models.CASCADE, related_name="program")
    center_latitude = models.FloatField(
        _("center latitude"), validators=[MinValueValidator(-90), MaxValueValidator(90)]
    )
    center_longitude = models.FloatField(
        _("center longitude"), validators=[MinValueValidator(-180), MaxValueValidator(180)]
    )
    service_radius_m = models.PositiveIntegerField(
        _("service radius (meters)"),
        validators=[MinValueValidator(500), MaxValueValidator(200_000)],
        help_text=_("Sites must lie within this distance of the center."),
    )
    goal_camera_count = models.PositiveIntegerField(_("goal camera count"), default=0)
    terms_text = models.TextField(_("terms"), max_length=20_000, blank=True)
    terms_version = models.PositiveIntegerField(_("terms version"), default=1)
    # The yearly re-verification: a notice this many days before the anniversary of the last
    # confirmation, a reminder on it, lapse this long after it, purge this long after lapsing.
    verification_notice_days = models.PositiveIntegerField(
        _("verification notice (days before)"), default=30, validators=[MaxValueValidator(180)]
    )
    verification_grace_days = models.PositiveIntegerField(
        _("verification grace period (days)"), default=30, validators=[MaxValueValidator(365)]
    )
    purge_after_days = models.PositiveIntegerField(
        _("purge lapsed registrations after (days)"),
        default=90,
        validators=[MinValueValidator(1), MaxValueValidator(730)],
    )
    # What one answer link takes: enough for an owner's clips of an incident, not a dump.
    clips_per_link_max = models.PositiveIntegerField(
        _("files per answer link"),
        default=10,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
    )
    clip_bytes_per_link_max = models.PositiveBigIntegerField(
        _("bytes per answer link"),
        default=2 * 1024**3,
        validators=[MinValueValidator(1024**2), MaxValueValidator(50 * 1024**3)],
    )

    # The canvass guardrail: no incident is searched farther than this from its place (a
    # missing person's doubled radius included). A canvass lists every searchable site in its
    # circle; in a dense city a wide one lists tens of thousands, so a large registry sets it
    # lower (about 5 km for 300,000 sites keeps the canvass page under 100 ms).
    search_radius_max_m = models.PositiveIntegerField(
        _("largest canvass radius (meters)"),
        default=20_000,
        validators=[MinValueValidator(100), MaxValueValidator(50_000)],
    )

    # How distances are written to this department's staff and residents (tenants.units):
    # feet and miles for US departments, meters where the department chooses metric. Stored
    # values stay in meters everywhere; only what people read and type changes.
    distance_units = models.CharField(
        _("distance units"),
        max_length=8,
        choices=[("imperial", _("Feet and miles")), ("metric", _("Meters and kilometers"))],
        default="imperial",
    )

    # The reasons staff may give for an access: [{"code": "burglary", "label": "Burglary"}, ...]
    offence_types = models.JSONField(_("offense types"), default=default_offence_types)

    # Live view (portal.liveview): how long one grant lasts, when a silent device counts as
    # offline, and the reasons staff may give.
    live_grant_minutes = models.PositiveIntegerField(
        _("live view grant (minutes)"),
        default=15,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
    )
    device_offline_minutes = models.PositiveIntegerField(
        _("device offline after (minutes)"),
        default=10,
        validators=[MinValueValidator(1), MaxValueValidator(24 * 60)],
    )
    live_reasons = models.JSONField(_("live view reasons"), default=default_live_reasons)

    # Where answers to the department's emails go (tenants.mail): its own mailbox, never the
    # platform's sending address. Empty: the emails carry no Reply-To.
    reply_to_email = models.EmailField(
        _("reply-to address"),
        max_length=254,
        blank=True,
        help_text=_("Answers to the program's emails go here, e.g. cameras@concordpd.gov."),
    )

    # Where addresses are looked up (portal.registry.geocoding): the deployment says where each
    # service is; a department without one places everything with the map pin.
    geocoder = models.CharField(
        _("address search"),
        max_length=16,
        choices=GEOCODER_CHOICES,
        default="nominatim",
        help_text=_("Which service finds places by address for residents and staff."),
    )

    objects = HostsQuerySet["Program"].as_manager()

    def __str__(self) -> str:
        return f"{self.department} program"

    def terms_set(self, text: str) -> bool:
        """THE rule of terms versions: a saved program whose terms text changes gets a new
        version, which every participant confirms at their next visit (their sites keep the
        version they accepted); a new program starts at version 1. Returns whether the version
        changed; the caller saves."""
        if text == self.terms_text:
            return False
        self.terms_text = text
        if self.pk is None:
            return False
        self.terms_version += 1
        return True

    def offence_type_choices(self) -> list[tuple[str, str]]:
        """The department's offence types as form choices: (code, label)."""
        return [(offence["code"], offence["label"]) for offence in self.offence_types]

    def offence_label(self, code: str) -> str:
        """The label of an offence type; the bare code when it has since left the list."""
        return dict(self.offence_type_choices()).get(code, code)

    def distance_from_center_m(self, latitude: float, longitude: float) -> float:
        """Great-circle (haversine) distance in metres from the service area's centre."""
        phi1, phi2 = math.radians(self.center_latitude), math.radians(latitude)
        d_phi = phi2 - phi1
        d_lambda = math.radians(longitude - self.center_longitude)
        a = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
        return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))

    def covers(self, latitude: float, longitude: float) -> bool:
        return self.distance_from_center_m(latitude, longitude) <= self.service_radius_m


class OutboxMessage(models.Model):
    """A task to hand to the broker once the transaction that wrote it commits (tenants.outbox):
    written in the same transaction as what it is about (an area notice), so that a broker
    that is down when the transaction commits loses nothing. `dispatched_at` is set once the
    broker took the task; the outbox job hands on again what is still undispatched after a
    grace period. Kept in the public schema, one table for every department's tasks."""

    # The department's schema the task runs in (tenant-schemas-celery's header).
    schema_name = models.CharField(max_length=63)
    # The task's registered name, and its positional arguments.
    task = models.CharField(max_length=200)
    args = models.JSONField(default=list)
    # What the task is about, for pages that show queued work ("notification:12").
    subject = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    # Failed hand-overs (the broker down) and the last error's kind.
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=200, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=models.Q(dispatched_at__isnull=True),
                name="outbox_undispatched",
            ),
            models.Index(fields=["schema_name", "subject"], name="outbox_subject"),
        ]

    def __str__(self) -> str:
        return f"{self.task} for {self.schema_name} ({self.subject or self.pk})"
