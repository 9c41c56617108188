"""The vendor's own records (public schema): vendor staff roles and the platform audit log.

A department's audit trail (portal.registry.AuditEntry) lives in its schema and records what
happens there; the platform audit log records what vendor staff do to departments from the
console (create, edit, suspend, export, delete, support sessions, roles), and survives the
department's deletion: it keeps the department's name and subdomain as text.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class VendorRole(models.TextChoices):
    SUPPORT = "support", _("Support")
    BILLING = "billing", _("Billing")
    ADMINISTRATOR = "administrator", _("Administrator")


class VendorCapability(models.TextChoices):
    """What vendor staff may do; a role is a set of these (VENDOR_ROLE_CAPABILITIES)."""

    DEPARTMENTS_VIEW = "departments_view", _("See departments")
    # Create, edit, add domains, suspend and reactivate.
    DEPARTMENTS_MANAGE = "departments_manage", _("Manage departments")
    DEPARTMENTS_EXPORT = "departments_export", _("Export a department")
    DEPARTMENTS_DELETE = "departments_delete", _("Delete a department")
    SUPPORT_SESSIONS = "support_sessions", _("Open support sessions")
    BILLING = "billing", _("Run billing")
    VENDOR_STAFF = "vendor_staff", _("Manage vendor staff")
    PLATFORM_AUDIT = "platform_audit", _("Read the platform audit log")


VENDOR_ROLE_CAPABILITIES: dict[str, frozenset[str]] = {
    VendorRole.SUPPORT: frozenset(
        {VendorCapability.DEPARTMENTS_VIEW, VendorCapability.SUPPORT_SESSIONS}
    ),
    VendorRole.BILLING: frozenset({VendorCapability.DEPARTMENTS_VIEW, VendorCapability.BILLING}),
    VendorRole.ADMINISTRATOR: frozenset(VendorCapability.values),
}


class VendorStaff(models.Model):
    """A vendor staff account's role. Accounts with is_staff and no row: a superuser is an
    administrator, anyone else support (console.access.vendor_role)."""

    user: models.OneToOneField[Any, Any] = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="vendor_staff"
    )
    role: models.CharField[str, str] = models.CharField(
        _("role"), max_length=16, choices=VendorRole.choices, default=VendorRole.SUPPORT
    )
    updated_at: models.DateTimeField[datetime, datetime] = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.user} ({self.role})"


class PlatformAuditEntry(models.Model):
    """One thing vendor staff (or the platform itself) did; append-only (console.audit)."""

    class Action(models.TextChoices):
        DEPARTMENT_CREATE = "department_create", _("Department created")
        DEPARTMENT_EDIT = "department_edit", _("Department edited")
        DOMAIN_ADD = "domain_add", _("Domain added")
        DOMAIN_REMOVE = "domain_remove", _("Domain removed")
        DEPARTMENT_SUSPEND = "department_suspend", _("Department suspended")
        DEPARTMENT_REACTIVATE = "department_reactivate", _("Department reactivated")
        DEPARTMENT_EXPORT = "department_export", _("Department export requested")
        DEPARTMENT_EXPORT_DOWNLOAD = "department_export_download", _("Department export downloaded")
        DEPARTMENT_DELETE = "department_delete", _("Department deleted")
        SUPPORT_REQUEST = "support_request", _("Support session requested")
        SUPPORT_WRITE_APPROVED = "support_write_approved", _("Support write access approved")
        SUPPORT_START = "support_start", _("Support session started")
        SUPPORT_END = "support_end", _("Support session ended")
        VENDOR_ROLE_CHANGE = "vendor_role_change", _("Vendor staff role changed")
        JOB_FAILED = "job_failed", _("Scheduled job failed")
        # A refund, cancellation, complimentary period, alert or fulfilment step in the billing
        # console (detail["what"]); billing keeps its own history line of it as well.
        BILLING_ACTION = "billing_action", _("Billing action")
        # A program request reviewed, noted, approved, declined or provisioned (detail["what"]);
        # the request keeps its own history as well (onboarding.models.ProgramRequestEvent).
        PROGRAM_REQUEST = "program_request", _("Program request")

    at: models.DateTimeField[datetime, datetime] = models.DateTimeField(
        auto_now_add=True, db_index=True
    )
    actor: models.ForeignKey[Any, Any] = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Kept as text: the record outlives the account and the department.
    actor_email: models.CharField[str, str] = models.CharField(max_length=254, blank=True)
    action: models.CharField[str, str] = models.CharField(
        max_length=32, choices=Action.choices, db_index=True
    )
    department: models.ForeignKey[Any, Any] = models.ForeignKey(
        "tenants.Department",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    department_name: models.CharField[str, str] = models.CharField(max_length=100, blank=True)
    department_schema: models.CharField[str, str] = models.CharField(max_length=63, blank=True)
    detail: models.JSONField[Any, Any] = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name_plural = "platform audit entries"

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.department_schema}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ValueError("The platform audit log is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ValueError("The platform audit log is append-only.")


class SupportSessionQuerySet(models.QuerySet["SupportSession"]):
    def live(self, now: datetime | None = None) -> SupportSessionQuerySet:
        """Sessions not ended and not past their time: THE rule for a session that works."""
        return self.filter(ended_at__isnull=True, expires_at__gt=now or timezone.now())


class SupportSession(models.Model):
    """Vendor staff's time-limited, recorded access to one department's console, requested
    with a reason (console.support). Read-only unless the department's administrator approves
    write access; ended by its time, by the vendor or by the department's administrator."""

    class Access(models.TextChoices):
        READ = "read", _("Read-only")
        WRITE = "write", _("Write")

    class EndedWhy(models.TextChoices):
        EXPIRED = "expired", _("Its time ran out")
        VENDOR = "vendor", _("Ended by the vendor")
        DEPARTMENT = "department", _("Ended by the department's administrator")

    vendor: models.ForeignKey[Any, Any] = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="support_sessions"
    )
    # As text too: the city's side reads it without joining the public schema's accounts (a
    # city has its own auth_user, with the same ids).
    vendor_email: models.CharField[str, str] = models.CharField(max_length=254)
    department: models.ForeignKey[Any, Any] = models.ForeignKey(
        "tenants.Department", on_delete=models.CASCADE, related_name="support_sessions"
    )
    reason: models.TextField[str, str] = models.TextField(_("reason"))
    requested_at: models.DateTimeField[datetime, datetime] = models.DateTimeField(
        default=timezone.now
    )
    expires_at: models.DateTimeField[datetime, datetime] = models.DateTimeField()
    access: models.CharField[str, str] = models.CharField(
        max_length=5, choices=Access.choices, default=Access.READ
    )
    write_requested_at: models.DateTimeField[datetime | None, datetime | None] = (
        models.DateTimeField(null=True, blank=True)
    )
    write_approved_at: models.DateTimeField[datetime | None, datetime | None] = (
        models.DateTimeField(null=True, blank=True)
    )
    # The department administrator's email: their account lives in the city's schema.
    approved_by: models.CharField[str, str] = models.CharField(max_length=254, blank=True)
    started_at: models.DateTimeField[datetime | None, datetime | None] = models.DateTimeField(
        null=True, blank=True
    )
    # The one entry link that may still be used (console.support.support_entry_link): a new
    # link replaces it, using it clears it.
    entry_nonce: models.CharField[str, str] = models.CharField(max_length=64, blank=True)
    ended_at: models.DateTimeField[datetime | None, datetime | None] = models.DateTimeField(
        null=True, blank=True
    )
    ended_why: models.CharField[str, str] = models.CharField(
        max_length=10, choices=EndedWhy.choices, blank=True
    )
    # Who ended it, as text (a vendor's or a city administrator's email).
    ended_by: models.CharField[str, str] = models.CharField(max_length=254, blank=True)

    objects = SupportSessionQuerySet.as_manager()

    class Meta:
        ordering = ["-requested_at", "-pk"]

    def __str__(self) -> str:
        return f"Support session {self.pk} ({self.department_id})"

    def is_live(self, now: datetime | None = None) -> bool:
        return self.ended_at is None and self.expires_at > (now or timezone.now())

    @property
    def write(self) -> bool:
        return self.access == self.Access.WRITE

    @property
    def write_pending(self) -> bool:
        return self.write_requested_at is not None and not self.write

    @property
    def state(self) -> str:
        """What the pages show: "live", "ended" or "expired" (time up, end not recorded yet)."""
        if self.ended_at is not None:
            return "ended"
        return "live" if self.is_live() else "expired"


class DepartmentExport(models.Model):
    """An archive of everything a department holds (console.exports), built in the background
    into private storage under `<schema>/exports/`. The row outlives the department (its name
    and schema kept as text), the file only DEPARTMENT_EXPORT_KEEP_DAYS."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to be built")
        RUNNING = "running", _("Being built")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")
        # Its file was removed after DEPARTMENT_EXPORT_KEEP_DAYS.
        EXPIRED = "expired", _("Expired")

    department: models.ForeignKey[Any, Any] = models.ForeignKey(
        "tenants.Department",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="exports",
    )
    department_name: models.CharField[str, str] = models.CharField(max_length=100)
    department_schema: models.CharField[str, str] = models.CharField(max_length=63)
    requested_by: models.ForeignKey[Any, Any] = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    requested_by_email: models.CharField[str, str] = models.CharField(max_length=254, blank=True)
    status: models.CharField[str, str] = models.CharField(
        max_length=16, choices=Status.choices, default=Status.PENDING
    )
    error: models.TextField[str, str] = models.TextField(blank=True)
    # The archive's name in private storage, "" until it is ready and after it expires.
    file_name: models.CharField[str, str] = models.CharField(max_length=300, blank=True)
    size: models.BigIntegerField[int, int] = models.BigIntegerField(default=0)
    created_at: models.DateTimeField[datetime, datetime] = models.DateTimeField(auto_now_add=True)
    started_at: models.DateTimeField[datetime | None, datetime | None] = models.DateTimeField(
        null=True, blank=True
    )
    finished_at: models.DateTimeField[datetime | None, datetime | None] = models.DateTimeField(
        null=True, blank=True
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            # One archive being built per department at a time: a second request waits for it.
            models.UniqueConstraint(
                fields=["department"],
                condition=models.Q(status__in=["pending", "running"]),
                name="one_export_in_progress_per_department",
            )
        ]

    def __str__(self) -> str:
        return f"Export {self.pk} of {self.department_schema} ({self.status})"

    @property
    def in_progress(self) -> bool:
        return self.status in {self.Status.PENDING, self.Status.RUNNING}

    @property
    def download_name(self) -> str:
        return f"{self.department_schema}-export-{self.pk}.zip"
