"""The one writer of the platform audit log (console.models.PlatformAuditEntry)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django_tenants.utils import get_public_schema_name, schema_context

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
    user = actor if isinstance(actor, User) and actor.is_authenticated else None
    entry = PlatformAuditEntry(
        actor=user,
        actor_email=getattr(user, "email", "") or "",
        action=action,
        department=department if department is not None and department.pk else None,
        department_name=department.name if department is not None else "",
        department_schema=department.schema_name if department is not None else "",
        detail=detail or {},
    )
    # In the public schema whatever schema the connection is in, and back (django-tenants).
    with schema_context(get_public_schema_name()):
        entry.save()
    return entry


def billing_action_record(
    *,
    actor: AbstractBaseUser | AnonymousUser,
    what: str,
    department: Department | None = None,
    **detail: Any,
) -> PlatformAuditEntry:
    """A billing or catalog action done in the console (a refund, a cancellation, a plan, a
    license...): in the platform audit log with the vendor staff member's other actions; billing
    keeps its own history line of it too."""
    return platform_audit_record(
        actor=actor,
        action=PlatformAuditEntry.Action.BILLING_ACTION,
        department=department,
        detail={"what": what, **detail},
    )
