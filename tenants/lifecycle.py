"""The department lifecycle's rules that belong to tenants: which host names a department may add
as its own, dropping a deleted department's schema, and the hook the layers above connect to
when a department is suspended. The vendor's actions themselves (one transaction each, each
recorded in the platform audit log) are console.lifecycle's."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import connection, transaction
from django.dispatch import Signal
from django.utils.translation import gettext as _
from django_tenants.utils import get_tenant_base_schema

from tenants.database import database_owner
from tenants.models import Branding, Department, Domain, Program, logo_path
from tenants.services import subdomain_validate
from tenants.storage import new_file_note, storage_guard

# Sent by the suspension, inside its transaction and in the suspended department's schema, with
# `department`: what staff hold open in the city (live view's grants) ends there and then.
department_suspended = Signal()

HOST_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
HOSTNAME_MAX = 253


def custom_domain_validate(hostname: str, *, department: Department) -> str:
    """The host name, lower-cased, that `department` may add as one of its addresses, or a
    ValidationError saying why not: malformed, the platform's own, a reserved or another
    department's name under the base domain, or already any department's address."""
    hostname = hostname.strip().lower().rstrip(".")
    base = settings.CANVASS_BASE_DOMAIN.lower()
    if hostname == base or hostname in {name.lower() for name in settings.PLATFORM_DOMAINS}:
        raise ValidationError(
            _("“%(hostname)s” is the platform's own address."),
            params={"hostname": hostname},
            code="domain_reserved",
        )
    labels = hostname.split(".")
    if (
        not hostname
        or len(hostname) > HOSTNAME_MAX
        or len(labels) < 2
        or not all(HOST_LABEL.match(label) for label in labels)
        or labels[-1].isdigit()
    ):
        raise ValidationError(
            _(
                "“%(hostname)s” is not a host name: use letters, digits and hyphens in "
                "dot-separated labels, such as cameras.concordnc.gov."
            ),
            params={"hostname": hostname},
            code="domain_malformed",
        )
    existing = Domain.objects.filter(domain=hostname).select_related("tenant").first()
    if existing is not None:
        if existing.tenant_id == department.pk:
            message = _("“%(hostname)s” is already an address of this department.")
        else:
            message = _("“%(hostname)s” is already used by another department.")
        raise ValidationError(message, params={"hostname": hostname}, code="domain_taken")
    if hostname.endswith(f".{base}"):
        subdomain = hostname.removesuffix(f".{base}")
        if "." in subdomain:
            raise ValidationError(
                _("Under %(base)s a department's address has one label, such as concord.%(base)s."),
                params={"base": base},
                code="domain_malformed",
            )
        schema_name = subdomain_validate(subdomain)  # malformed or reserved: says which
        if schema_name != department.schema_name and (
            Department.objects.filter(schema_name=schema_name).exists()
        ):
            raise ValidationError(
                _("“%(hostname)s” is another department's subdomain."),
                params={"hostname": hostname},
                code="domain_taken",
            )
    return hostname


def department_schema_drop(schema_name: str) -> None:
    """Drop a department's schema and everything in it, as the database owner (the application
    owns nothing). The owner's connection commits at once: callers do it last, just before their
    own transaction commits."""
    protected = {"public", "information_schema", get_tenant_base_schema()}
    if not schema_name or schema_name in protected or schema_name.startswith("pg_"):
        raise ValueError(f"refusing to drop the schema {schema_name!r}")
    with database_owner(), connection.cursor() as cursor:
        cursor.execute(f"DROP SCHEMA IF EXISTS {connection.ops.quote_name(schema_name)} CASCADE")


def branding_logo_set(branding: Branding, *, logo: File | None, clear: bool = False) -> bool:
    """Put a new logo on the branding (checked by tenants.validators.validate_logo first), or
    remove it; the caller saves the branding in its transaction, and the old file is deleted
    only once that commits (a rollback keeps the logo in use). The new file is stored first
    (StorageUnavailable when the storage cannot keep it) and noted for deletion if the caller's
    `new_files_discarded_on_failure` block fails. Returns whether it changed."""
    if logo is None and not (clear and branding.logo):
        return False
    if logo is not None:
        Branding._meta.get_field("logo").run_validators(logo)
    if branding.logo:
        old, storage = branding.logo.name, branding.logo.storage
        transaction.on_commit(lambda: storage.delete(old))
        branding.logo.name = ""
    if logo is not None:
        name = logo_path(branding, logo.name or "logo.png")
        with storage_guard("save", name):
            branding.logo.save(logo.name or "logo.png", logo, save=False)
        new_file_note(branding.logo.storage, branding.logo.name)
    return True


@dataclass(frozen=True)
class SettingsApplied:
    changed: list[str]
    terms_version: int


def _validated(instance: Any, exclude: list[str], errors: dict[str, list[str]]) -> None:
    try:
        instance.full_clean(exclude=exclude, validate_unique=False)
    except ValidationError as error:
        for field, messages in error.message_dict.items():
            errors.setdefault(field, []).extend(messages)


def department_settings_apply(
    department: Department,
    *,
    fields: Sequence[str],
    changes: dict[str, Any],
    languages: Sequence[str] | None = None,
    terms_text: str | None = None,
    logo: File | None = None,
    logo_clear: bool = False,
) -> SettingsApplied:
    """Change a department's own fields, its branding's and its programme's among `fields` (what
    the caller's audience may set: vendor staff more than a department's administrator), its
    languages, terms and logo, inside the caller's transaction. Every value is checked before
    anything is written (a ValidationError by field); a changed terms text is a new terms version
    (Program.terms_set). Returns what changed, nothing written when nothing did."""
    branding = Branding.objects.select_for_update().get(department=department)
    program = Program.objects.select_for_update().get(department=department)
    changed: list[str] = []
    for instance in (department, branding, program):
        own = {model_field.name for model_field in instance._meta.concrete_fields}
        for field in sorted(own.intersection(fields).intersection(changes)):
            if getattr(instance, field) != changes[field]:
                setattr(instance, field, changes[field])
                changed.append(field)
    if languages is not None and list(languages) != branding.languages:
        branding.languages = list(languages)
        changed.append("languages")
    if terms_text is not None and program.terms_set(terms_text):
        changed.append("terms_text")
    errors: dict[str, list[str]] = {}
    _validated(department, ["schema_name"], errors)
    _validated(branding, ["department", "logo"], errors)
    _validated(program, ["department"], errors)
    if logo is not None:
        try:
            Branding._meta.get_field("logo").run_validators(logo)
        except ValidationError as error:
            errors.setdefault("logo", []).extend(error.messages)
    if errors:
        raise ValidationError(errors)
    if branding_logo_set(branding, logo=logo, clear=logo_clear):
        changed.append("logo")
    if changed:
        department.save()
        branding.save()
        program.save()
    return SettingsApplied(changed=changed, terms_version=program.terms_version)
