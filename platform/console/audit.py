"""The one writer of the platform audit log (console.models.PlatformAuditEntry)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import connection
from django_tenants.utils import schema_context

from console.models import PlatformAuditEntry
from tenants.models import Department


def platform_audit_record(
    *,
    actor: AbstractBaseUser | AnonymousUser | None,
    action: str,
    department: Department | None = None,
    detail: dict[str, Any] | None = None,
) -> PlatformAuditEntry:
    """Record what vendor staff (actor) or the platform (actor None) did, to which department,
    in the public schema whatever schema the connection is in; inside the caller's transaction,
    so the record and the action commit or roll back together."""
    user = actor if actor is not None and actor.is_authenticated else None
    entry = PlatformAuditEntry(
        actor_id=user.pk if user is not None else None,
        actor_email=getattr(user, "email", "") or "",
        action=action,
        department=department if department is not None and department.pk else None,
        department_name=department.name if department is not None else "",
        department_schema=department.schema_name if department is not None else "",
        detail=detail or {},
    )
    if getattr(connection, "schema_name", "public") == "public":
        entry.save()
    else:
        with schema_context("public"):
            entry.save()
    return entry
