"""Bounces and complaints: the email provider's reports (anymail's tracking webhook, and
recipients it refuses at sending) mark the owner's address as undeliverable in the city the
email was sent for; the owner changing or confirming their address again clears the mark.

The city comes from the schema every email carries in its metadata (tenants.mail): the same
address may belong to owners in several cities, and a report marks only the one it is about.
Not an audit entry: the audit trail records who reached personal data, and a bounce is the
provider's report, not anyone's access."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from allauth.account.models import EmailAddress
from allauth.account.signals import email_changed, email_confirmed
from anymail.signals import AnymailTrackingEvent, EventType, post_send, tracking
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.mail import EmailMessage
from django.db.models import Q
from django.utils import timezone
from django_tenants.utils import get_public_schema_name, tenant_context

from portal.registry.models import Participant, UndeliverableReason
from tenants.db import tenant_connection
from tenants.mail import DEPARTMENT_METADATA_KEY
from tenants.models import Department

logger = logging.getLogger(__name__)

# anymail's normalised event types that mean "do not send here again".
UNDELIVERABLE_EVENTS = {
    EventType.BOUNCED: UndeliverableReason.BOUNCED,
    EventType.COMPLAINED: UndeliverableReason.COMPLAINED,
    EventType.REJECTED: UndeliverableReason.REJECTED,
}
# Postmark reports a full mailbox as a bounce of type SoftBounce (anymail: BOUNCED): temporary.
TEMPORARY_BOUNCE_TYPES = {"SoftBounce", "Transient", "DnsError"}
# anymail's status of a recipient the provider refused at sending (a suppressed address).
REFUSED_STATUSES = {"rejected", "invalid"}


def email_undeliverable_mark(*, email: str, reason: str, detail: str, at: datetime) -> int:
    """Mark, in the current department's schema, the owners whose account address is `email`
    as undeliverable; returns how many were marked. Idempotent: an address already marked
    keeps its first report, and a report from before the owner last confirmed the address
    (a late or repeated delivery) marks nothing."""
    detail = " ".join(detail.replace(email, "[address]").split())[:200]
    return (
        Participant.objects.filter(user__email__iexact=email.strip())
        .filter(email_undeliverable_at__isnull=True)
        .filter(
            Q(email_undeliverable_cleared_at__isnull=True)
            | Q(email_undeliverable_cleared_at__lt=at)
        )
        .update(
            email_undeliverable_at=at,
            email_undeliverable_reason=reason,
            email_undeliverable_detail=detail,
        )
    )


def email_deliverable_again(*, user: AbstractBaseUser) -> None:
    """The owner changed their address or showed that it reaches them (they confirmed it, or
    answered a link emailed to it): notices go to it again. Vendor staff (the public schema)
    have no registration to clear."""
    if tenant_connection.schema_name == get_public_schema_name():
        return
    # cleared_at is set even without a mark: a report older than this confirmation (delayed
    # by the provider) must not mark an address that has since proven to work.
    Participant.objects.filter(user_id=user.pk).update(
        email_undeliverable_at=None,
        email_undeliverable_reason="",
        email_undeliverable_detail="",
        email_undeliverable_cleared_at=timezone.now(),
    )


def _department(schema: object) -> Department | None:
    if not isinstance(schema, str) or not schema:
        return None
    return Department.objects.cities().filter(schema_name=schema).first()


def _report(
    *, schema: object, email: str, reason: str, detail: str, at: datetime, esp: str
) -> None:
    """Mark the address in the department the email was for; an unknown department (a
    platform email, an email sent before tagging, a deleted city) is logged and ignored.
    Logs name the city and the counts, never the address."""
    department = _department(schema)
    if department is None:
        logger.warning(
            "%s: an undeliverable-email report (%s) for no known department (%r) is ignored",
            esp,
            reason,
            str(schema)[:63],
        )
        return
    with tenant_context(department):
        marked = email_undeliverable_mark(email=email, reason=reason, detail=detail, at=at)
    logger.info(
        "%s: an undeliverable-email report (%s) marked %d owner(s) in %s",
        esp,
        reason,
        marked,
        department.schema_name,
    )


def tracking_received(
    sender: Any, event: AnymailTrackingEvent, esp_name: str, **kwargs: Any
) -> None:
    """anymail's tracking webhook (on the platform's host, in the public schema)."""
    reason = UNDELIVERABLE_EVENTS.get(event.event_type)
    if reason is None or not event.recipient:
        return
    esp_event = event.esp_event
    if isinstance(esp_event, dict) and esp_event.get("Type") in TEMPORARY_BOUNCE_TYPES:
        return
    metadata = event.metadata if isinstance(event.metadata, dict) else {}
    _report(
        schema=metadata.get(DEPARTMENT_METADATA_KEY),
        email=str(event.recipient),
        reason=reason,
        detail=str(event.description or event.reject_reason or ""),
        at=event.timestamp or timezone.now(),
        esp=esp_name,
    )


def send_refused(
    sender: Any, message: EmailMessage, status: Any, esp_name: str, **kwargs: Any
) -> None:
    """anymail's answer at sending: recipients the provider refused outright (an address it
    has suppressed after an earlier bounce) are marked like a bounce reported later."""
    metadata = getattr(message, "metadata", None)
    schema = metadata.get(DEPARTMENT_METADATA_KEY) if isinstance(metadata, dict) else None
    for email, recipient in (getattr(status, "recipients", None) or {}).items():
        if recipient.status in REFUSED_STATUSES:
            _report(
                schema=schema,
                email=email,
                reason=UndeliverableReason.REJECTED,
                detail=f"refused at sending ({recipient.status})",
                at=timezone.now(),
                esp=esp_name,
            )


def address_confirmed(sender: Any, email_address: EmailAddress, **kwargs: Any) -> None:
    """allauth: the owner confirmed their account's address through the emailed link."""
    user = email_address.user
    if email_address.email.casefold() == (user.email or "").casefold():
        email_deliverable_again(user=user)


def address_changed(sender: Any, user: AbstractBaseUser, **kwargs: Any) -> None:
    """allauth: the owner's account has another address now."""
    email_deliverable_again(user=user)


def connect() -> None:
    """Called from RegistryConfig.ready."""
    tracking.connect(tracking_received, dispatch_uid="registry.bounces.tracking")
    post_send.connect(send_refused, dispatch_uid="registry.bounces.post_send")
    email_confirmed.connect(address_confirmed, dispatch_uid="registry.bounces.confirmed")
    email_changed.connect(address_changed, dispatch_uid="registry.bounces.changed")
