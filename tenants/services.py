"""Provisioning: the only way departments, their schemas, domains and branding come to exist."""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.validators import validate_email
from django.db import DatabaseError, IntegrityError, connection, models, transaction
from django.db.migrations.loader import MigrationLoader
from django.dispatch import Signal
from django.utils.translation import gettext as _
from django_tenants.utils import (
    get_public_schema_name,
    get_tenant_base_schema,
    schema_context,
    schema_exists,
)

from tenants.database import application_role, database_owner
from tenants.models import PROVISIONING_MARK, Branding, Department, Domain, Program, logo_path
from tenants.schema_clone import (
    schema_clone_function_fingerprint,
    schema_clone_function_install,
    template_fingerprint,
)
from tenants.schema_migrations import schema_migrations_apply
from tenants.storage import (
    LOGO_FOLDER,
    department_files_delete,
    is_department_schema_name,
    new_file_note,
    new_files_discarded_on_failure,
    public_storage,
    storage_guard,
)

# Sent inside the provisioning transaction, in the new department's schema, with
# `department`, `user` (its first administrator's account) and `invited` (whether the account
# has no password yet and its owner must be emailed a link to choose one). Layers above tenants
# (the department console) connect to it: tenants never imports them.
administrator_provisioned = Signal()
logger = logging.getLogger(__name__)

SUBDOMAIN_PATTERN = re.compile(r"^[a-z](?:[a-z0-9-]{0,28}[a-z0-9])?$")
RESERVED_SUBDOMAINS = frozenset(
    {"www", "public", "admin", "api", "app", "console", "platform", "static", "media", "mail"}
)


@dataclass(frozen=True)
class Provisioned:
    department: Department
    domain: Domain
    administrator: AbstractUser
    # True when this call created the administrator without a password and emailed them a
    # link to choose one.
    administrator_invited: bool
    created: bool


def subdomain_validate(subdomain: str) -> str:
    """Return the schema name for a subdomain, or raise a ValidationError that says why not."""
    if not SUBDOMAIN_PATTERN.match(subdomain):
        raise ValidationError(
            _(
                "A subdomain is 1 to 30 lowercase letters, digits and hyphens, starting with a "
                "letter and not ending with a hyphen; “%(subdomain)s” is not one."
            ),
            params={"subdomain": subdomain},
            code="subdomain_malformed",
        )
    schema_name = subdomain.replace("-", "_")
    if (
        subdomain in RESERVED_SUBDOMAINS
        or schema_name == get_tenant_base_schema()
        or schema_name.startswith("pg_")
    ):
        raise ValidationError(
            _("The subdomain “%(subdomain)s” is reserved."),
            params={"subdomain": subdomain},
            code="subdomain_reserved",
        )
    return schema_name


def department_hostname(subdomain: str) -> str:
    return f"{subdomain}.{settings.CANVASS_BASE_DOMAIN}"


@functools.cache
def migrations_on_disk() -> frozenset[tuple[str, str]]:
    """Every migration of the project, read once per process (the files do not change under a
    running server). migrate_schemas records all of them in a department schema, including the
    public apps' ones it applies as no-ops there."""
    return frozenset(MigrationLoader(None, ignore_no_migrations=True).graph.nodes)


def template_schema_migrations() -> set[tuple[str, str]] | None:
    """The migrations the template schema has applied; None when it has no record of any."""
    template = get_tenant_base_schema()
    if not template or not schema_exists(template):
        return None
    with connection.cursor() as cursor:
        # A template whose first migration run failed may not even have the table.
        cursor.execute("SELECT to_regclass(%s)", [f'"{template}".django_migrations'])
        if cursor.fetchone()[0] is None:
            return None
        cursor.execute(f'SELECT app, name FROM "{template}".django_migrations')
        return set(cursor.fetchall())


def department_schemas_behind() -> list[str]:
    """The departments whose schema lacks a migration on disk, read in one query over all of
    them (migrate_schemas would start a migration run in each schema to find out)."""
    schemas = list(
        Department.objects.exclude(schema_name=get_public_schema_name())
        .order_by("schema_name")
        .values_list("schema_name", flat=True)
    )
    if not schemas:
        return []
    disk = sorted(f"{app}.{name}" for app, name in migrations_on_disk())
    counts = " UNION ALL ".join(
        f"SELECT %s, count(*) FROM {connection.ops.quote_name(schema)}.django_migrations "
        "WHERE app || '.' || name IN (SELECT migration FROM disk)"
        for schema in schemas
    )
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"WITH disk AS (SELECT unnest(%s::text[]) AS migration) {counts}",
                [disk, *schemas],
            )
            applied = dict(cursor.fetchall())
    except DatabaseError:
        return schemas  # a schema without its migrations table: migrate_schemas will say
    return [schema for schema in schemas if applied.get(schema, 0) < len(disk)]


def template_schema_is_current() -> bool:
    """Whether the template schema exists and the owner's clone function was made for it with
    every migration on disk applied (the application's role cannot read the template itself)."""
    template = get_tenant_base_schema()
    return bool(
        template
        and schema_exists(template)
        and schema_clone_function_fingerprint() == template_fingerprint(migrations_on_disk())
    )


def template_schema_refresh(*, verbosity: int = 0) -> None:
    """Create or migrate the empty department schema that new departments are cloned from, and
    make the function that clones it; as the database owner (DATABASE_OWNER_URL)."""
    template = get_tenant_base_schema()
    if not template or template_schema_is_current():
        return
    with database_owner():
        application = application_role()
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE SCHEMA IF NOT EXISTS "{template}"')
            if application and application != connection.settings_dict["USER"]:
                # The application never reads or writes the template: rows it could put there
                # (an account, audit entries) would be copied into every new department.
                cursor.execute(f'REVOKE ALL ON SCHEMA "{template}" FROM "{application}"')
        applied = template_schema_migrations()
        if applied is None or not migrations_on_disk() <= applied:
            schema_migrations_apply(template, verbosity=verbosity)
        schema_clone_function_install(
            template,
            fingerprint=template_fingerprint(migrations_on_disk()),
            application=application,
        )


def platform_site_ensure() -> Department:
    """The public-schema row that serves the platform site on PLATFORM_DOMAINS."""
    platform, _created = Department.objects.get_or_create(
        schema_name=get_public_schema_name(),
        defaults={"name": "Canvass platform", "city": "", "state": "", "time_zone": "UTC"},
    )
    for position, hostname in enumerate(settings.PLATFORM_DOMAINS):
        Domain.objects.update_or_create(
            domain=hostname, defaults={"tenant": platform, "is_primary": position == 0}
        )
    return platform


def department_provision(
    *,
    subdomain: str,
    name: str,
    city: str,
    state: str,
    time_zone: str,
    display_name: str,
    center_latitude: float,
    center_longitude: float,
    service_radius_m: int,
    administrator_email: str,
    administrator_password: str | None = None,
    primary_color: str = "#1d4ed8",
    accent_color: str = "#f59e0b",
    welcome_en: str = "",
    welcome_es: str = "",
    languages: Sequence[str] = ("en", "es"),
    logo: File | None = None,
    goal_camera_count: int = 0,
    terms_text: str = "",
    verbosity: int = 0,
) -> Provisioned:
    """Create a department with its schema, domain, branding, program and first administrator.

    Idempotent: called again with the same subdomain and name it brings branding and program up
    to date and returns the existing department. Everything is checked before anything is
    written, and the writes share one transaction, so a refusal leaves no schema, row or domain.
    """
    subdomain = subdomain.strip().lower()
    errors: dict[str, list[ValidationError]] = {}
    try:
        schema_name = subdomain_validate(subdomain)
    except ValidationError as error:
        raise ValidationError({"subdomain": error}) from error
    hostname = department_hostname(subdomain)

    department = Department.objects.filter(schema_name=schema_name).first()
    if department is not None and department.name != name.strip():
        raise ValidationError(
            {
                "subdomain": ValidationError(
                    _("The subdomain “%(subdomain)s” is taken by %(department)s."),
                    params={"subdomain": subdomain, "department": department.name},
                    code="subdomain_taken",
                )
            }
        )
    if Domain.objects.filter(domain=hostname).exclude(tenant__schema_name=schema_name).exists():
        raise ValidationError(
            {
                "subdomain": ValidationError(
                    _("The address %(hostname)s already belongs to another department."),
                    params={"hostname": hostname},
                    code="subdomain_taken",
                )
            }
        )

    created = department is None
    if department is None:
        department = Department(schema_name=schema_name)
    department.name, department.city, department.state = name.strip(), city.strip(), state
    department.time_zone = time_zone

    branding = getattr(department, "branding", None) if not created else None
    branding = branding or Branding()
    branding.display_name = display_name.strip()
    branding.primary_color, branding.accent_color = primary_color, accent_color
    branding.welcome_en, branding.welcome_es = welcome_en, welcome_es
    branding.languages = list(languages)

    program = getattr(department, "program", None) if not created else None
    program = program or Program()
    program.center_latitude, program.center_longitude = center_latitude, center_longitude
    program.service_radius_m, program.goal_camera_count = service_radius_m, goal_camera_count
    if terms_text:
        program.terms_set(terms_text)

    for instance, exclude in (
        (department, ["schema_name"]),
        (branding, ["department", "logo"]),
        (program, ["department"]),
    ):
        try:
            instance.full_clean(exclude=exclude, validate_unique=False)
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                errors.setdefault(field, []).extend(ValidationError(m) for m in messages)
    if logo is not None:
        try:
            Branding._meta.get_field("logo").run_validators(logo)
        except ValidationError as error:
            errors.setdefault("logo", []).extend(error.error_list)
    try:
        validate_email(administrator_email)
    except ValidationError:
        errors.setdefault("administrator_email", []).append(
            ValidationError(_("Enter a valid email address for the administrator."))
        )
    else:
        if (too_long := account_email_too_long(administrator_email)) is not None:
            errors.setdefault("administrator_email", []).append(too_long)
    if administrator_password is not None:
        try:
            validate_password(administrator_password)
        except ValidationError as error:
            errors.setdefault("administrator_password", []).extend(error.error_list)
    if errors:
        raise ValidationError(errors)

    template = get_tenant_base_schema()
    if created and template and schema_exists(template) and not template_schema_is_current():
        # A template left behind by a deploy would clone an outdated schema; bring it up to
        # date first. Without any template, django-tenants migrates the new schema instead.
        template_schema_refresh()
    if created:
        # What a provisioning of this subdomain killed mid-way left (a schema made apart).
        provisioning_leftovers_sweep(only=schema_name)
    try:
        with new_files_discarded_on_failure(), transaction.atomic():
            # Held until the outermost transaction ends (or the process dies): while it is,
            # the sweep leaves this subdomain's schema alone.
            provisioning_lock(schema_name, wait=True)
            try:
                department.save(verbosity=verbosity)
            except ValidationError as error:
                # django-tenants' own check: a department with this schema appeared meanwhile.
                raise taken_meanwhile(subdomain) from error
            domain, _domain_created = Domain.objects.get_or_create(
                domain=hostname, defaults={"tenant": department, "is_primary": True}
            )
            branding.department = program.department = department
            if logo is not None:
                # Stored before the branding row names it (StorageUnavailable when the storage
                # cannot keep it), deleted again if the provisioning fails.
                with storage_guard("save", logo_path(branding, logo.name or "logo.png")):
                    branding.logo.save(logo.name or "logo.png", logo, save=False)
                new_file_note(branding.logo.storage, branding.logo.name)
            branding.save()
            program.save()
            with schema_context(department.schema_name):
                administrator, account_created = staff_account_ensure(
                    email=administrator_email, password=administrator_password
                )
                invited = account_created and administrator_password is None
                # The department console (a higher layer) makes the account its administrator
                # and, when invited, emails the set-password link.
                administrator_provisioned.send(
                    sender=Department,
                    department=department,
                    user=administrator,
                    invited=invited,
                )
            if department.schema_created_apart:
                transaction.on_commit(functools.partial(_provisioning_mark_clear, schema_name))
    except IntegrityError as error:
        schema_drop_if_created_apart(department)
        # Another provisioning took the subdomain between the checks above and these writes.
        table = getattr(getattr(error.__cause__, "diag", None), "table_name", None)
        if table not in {"tenants_department", "tenants_domain"}:
            raise
        raise taken_meanwhile(subdomain) from error
    except BaseException:
        schema_drop_if_created_apart(department)
        raise
    return Provisioned(department, domain, administrator, invited, created)


def schema_drop_if_created_apart(department: Department) -> None:
    """Undo a schema the owner made outside the failed provisioning's transaction (a department
    migrated rather than cloned, see Department.create_schema)."""
    if department.schema_created_apart:
        with database_owner(), connection.cursor() as cursor:
            cursor.execute(f'DROP SCHEMA IF EXISTS "{department.schema_name}" CASCADE')
        department.schema_created_apart = False


def provisioning_lock(schema_name: str, *, wait: bool) -> bool:
    """Take the provisioning lock of a schema name for the current transaction (a PostgreSQL
    advisory lock, released when it ends or its process dies); whether it was taken (always,
    when `wait`)."""
    key = f"canvass-provision:{schema_name}"
    function = "pg_advisory_xact_lock" if wait else "pg_try_advisory_xact_lock"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {function}(hashtextextended(%s, 0))::text", [key])
        (held,) = cursor.fetchone()
    return held != "false"


def provisioning_leftovers_sweep(*, only: str | None = None) -> list[str]:
    """Drop the schemas provisionings left unfinished: made apart (migrated, not cloned) with
    PROVISIONING_MARK, no department of that name committed, and no provisioning of it at work
    (its lock free): the process that made it died before its transaction committed. Returns
    their names. Run by the platform's provisioning_sweep job and before a subdomain is
    provisioned again; safe to run at any time and in two processes at once."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nspname FROM pg_namespace WHERE obj_description(oid, 'pg_namespace') = %s"
            + (" AND nspname = %s" if only else "")
            + " ORDER BY nspname",
            [PROVISIONING_MARK, only] if only else [PROVISIONING_MARK],
        )
        marked = [name for (name,) in cursor.fetchall()]
    dropped = []
    for schema_name in marked:
        with transaction.atomic():
            if not provisioning_lock(schema_name, wait=False):
                continue  # a provisioning of it is at work
            if Department.objects.filter(schema_name=schema_name).exists():
                # Live: its provisioning committed and died before clearing the mark.
                _provisioning_mark_clear(schema_name)
                continue
            with database_owner(), connection.cursor() as cursor:
                cursor.execute(f'DROP SCHEMA IF EXISTS "{schema_name}" CASCADE')
        logger.warning("Provisioning of %s did not finish: its schema was dropped", schema_name)
        dropped.append(schema_name)
    return dropped


def orphan_logos_sweep() -> list[str]:
    """Remove the files of departments that do not exist: a provisioning killed after storing
    its logo and before its transaction committed leaves `logos/<schema>/` behind (files are
    not part of the transaction). Skips a provisioning at work (its lock held). Returns the
    schema names whose files went. Run by the provisioning_sweep job with the schemas'."""
    storage = public_storage()
    try:
        folders, _files = storage.listdir(LOGO_FOLDER)
    except FileNotFoundError:
        return []
    live = set(Department.objects.values_list("schema_name", flat=True))
    swept = []
    for schema_name in sorted(set(folders) - live):
        if not is_department_schema_name(schema_name):
            continue
        with transaction.atomic():
            if not provisioning_lock(schema_name, wait=False):
                continue  # a provisioning of it is at work
            if Department.objects.filter(schema_name=schema_name).exists():
                continue
            removed = department_files_delete(schema_name)
        logger.warning(
            "%d file(s) of %s, a department that does not exist, removed", removed, schema_name
        )
        swept.append(schema_name)
    return swept


def _provisioning_mark_clear(schema_name: str) -> None:
    with database_owner(), connection.cursor() as cursor:
        cursor.execute(f'COMMENT ON SCHEMA "{schema_name}" IS NULL')


def taken_meanwhile(subdomain: str) -> ValidationError:
    """The refusal when another provisioning took the subdomain between the checks and the
    writes of this one."""
    return ValidationError(
        {
            "subdomain": ValidationError(
                _("The subdomain “%(subdomain)s” was taken a moment ago; choose another."),
                params={"subdomain": subdomain},
                code="subdomain_taken",
            )
        }
    )


def account_email_max_length() -> int:
    """Accounts are made with their email as their username, so an address can be no longer
    than a username (150 characters in django.contrib.auth, where an email may have 254)."""
    user_model = get_user_model()
    field = user_model._meta.get_field(user_model.USERNAME_FIELD)
    assert isinstance(field, models.CharField) and field.max_length is not None
    return field.max_length


def account_email_too_long(email: str) -> ValidationError | None:
    """The refusal for an address too long to be an account's username, or None."""
    limit = account_email_max_length()
    if len(email.strip()) <= limit:
        return None
    return ValidationError(
        _("Use an email address of at most %(limit)s characters."),
        params={"limit": limit},
        code="email_too_long",
    )


def staff_account_ensure(*, email: str, password: str | None) -> tuple[AbstractUser, bool]:
    """A staff account with a verified email in the current schema (a department's first
    administrator in its schema, or vendor staff in public), and whether this call created it.
    Without a password the account has none until its owner chooses one from an emailed link:
    nobody else ever knows it."""
    user_model = get_user_model()
    email = email.strip().lower()
    existing = user_model.objects.filter(email__iexact=email).first()
    if existing is not None:
        return existing, False
    administrator = user_model.objects.create_user(
        username=email, email=email, password=password, is_staff=True, is_superuser=True
    )
    EmailAddress.objects.create(user=administrator, email=email, primary=True, verified=True)
    return administrator, True
