"""The department lifecycle's rules that belong to tenants: which host names a department may add
as its own, dropping a deleted department's schema, and the hook the layers above connect to
when a department is suspended. The vendor's actions themselves (one transaction each, each
recorded in the platform audit log) are console.lifecycle's."""

from __future__ import annotations

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection
from django.dispatch import Signal
from django.utils.translation import gettext as _
from django_tenants.utils import get_tenant_base_schema

from tenants.database import database_owner
from tenants.models import Department, Domain
from tenants.services import subdomain_validate

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
