"""Every link the system emails is signed here, and names its city: answer links (area notices
and footage requests), the yearly confirmation, staff invitations and set-password links,
allauth's email confirmation, and the unlock link of a locked account. (It is the lowest
layer's, so that every layer above can use it.)

Ids start at 1 in every department's schema, so a token that signed only an id would work on
every city's portal. The current schema (`connection.schema_name`) therefore goes into the salt
and into the payload, and is checked when the link is used: a link from another city is refused
exactly like a tampered one.
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from typing import Any

from allauth.account import app_settings as account_settings
from allauth.account.models import EmailAddress, EmailConfirmationHMAC
from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.auth.tokens import PasswordResetTokenGenerator as DjangoTokenGenerator
from django.core import signing

from tenants.db import tenant_connection


class Link(StrEnum):
    """What a link is for; each has its own salt, so that no link can stand in for another."""

    ANSWER = "answer"  # an owner's answer to a notice or a footage request
    REGISTRATION_CONFIRM = "registration-confirm"  # the yearly "still active?" confirmation
    EMAIL_CONFIRM = "email-confirm"  # allauth's "confirm your email address"
    SET_PASSWORD = "set-password"  # invitations, a department's first administrator, resets
    ACCOUNT_UNLOCK = "account-unlock"  # the owner's link out of an account-wide sign-in lock
    # Vendor staff's single-use way from the platform into a city's console (console.support).
    SUPPORT_ENTRY = "support-entry"
    # A program request's "confirm your email address" (onboarding.requests, public schema).
    PROGRAM_REQUEST_CONFIRM = "program-request-confirm"


MAX_AGE: dict[Link, timedelta] = {
    Link.ANSWER: timedelta(days=30),
    # The yearly confirmation stays usable through the grace period and a little more.
    Link.REGISTRATION_CONFIRM: timedelta(days=200),
    Link.EMAIL_CONFIRM: timedelta(days=account_settings.EMAIL_CONFIRMATION_EXPIRE_DAYS),
    # Set-password keys expire after Django's PASSWORD_RESET_TIMEOUT (checked by Django).
    Link.ACCOUNT_UNLOCK: timedelta(seconds=settings.ACCOUNT_UNLOCK_LINK_SECONDS),
    Link.SUPPORT_ENTRY: timedelta(seconds=settings.SUPPORT_ENTRY_LINK_SECONDS),
    Link.PROGRAM_REQUEST_CONFIRM: timedelta(days=7),
}


class LinkError(Exception):
    """A link that cannot be used. `reason` says why: "invalid" (tampered, truncated or from
    another city), "expired", or what the link's own rules add ("used", "purged")."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _salt(link: Link, schema_name: str) -> str:
    return f"canvass.{link}:{schema_name}"


def link_sign(link: Link, value: Any) -> str:
    """A URL-safe token carrying `value` (JSON) for this city's portal only."""
    schema_name = tenant_connection.schema_name
    return signing.dumps({"s": schema_name, "v": value}, salt=_salt(link, schema_name))


def link_read(link: Link, token: str) -> Any:
    """The value signed into a token made by `link_sign` in this city; LinkError otherwise."""
    schema_name = tenant_connection.schema_name
    try:
        # The signature is checked before the age: another city's old link is "invalid" too.
        payload = signing.loads(token, salt=_salt(link, schema_name), max_age=MAX_AGE[link])
    except signing.SignatureExpired as error:
        raise LinkError("expired") from error
    except signing.BadSignature as error:
        raise LinkError("invalid") from error
    if not isinstance(payload, dict) or payload.get("s") != schema_name:
        raise LinkError("invalid")
    return payload.get("v")


def link_id(payload: Any, key: str) -> int:
    """The row id a link's payload names under `key`; LinkError("invalid") if it names none."""
    value = payload.get(key) if isinstance(payload, dict) else None
    if not isinstance(value, int) or isinstance(value, bool):
        raise LinkError("invalid")
    return value


class PasswordResetTokenGenerator(DjangoTokenGenerator):
    """Set-password and password-reset keys bound to their city (allauth's
    ACCOUNT_PASSWORD_RESET_TOKEN_GENERATOR). Like allauth's own generator, a key also stops
    working when the password, the last sign-in or any of the user's email addresses change."""

    # A property where Django has a class attribute: the salt is the current city's.
    @property
    def key_salt(self) -> str:  # type: ignore[override]
        return _salt(Link.SET_PASSWORD, tenant_connection.schema_name)

    def _make_hash_value(self, user: User, timestamp: int) -> str:
        emails = EmailAddress.objects.filter(user_id=user.pk).values_list("email", flat=True)
        return "|".join(
            [
                super()._make_hash_value(user, timestamp),
                *sorted(emails),
                tenant_connection.schema_name,
            ]
        )


password_reset_tokens = PasswordResetTokenGenerator()


class EmailConfirmation(EmailConfirmationHMAC):
    """allauth's stateless email confirmation, with a key that names its city (allauth's own
    key signs only the EmailAddress id). tenants.adapters sends and reads it."""

    @property
    def key(self) -> str:
        return link_sign(Link.EMAIL_CONFIRM, self.email_address.pk)

    @classmethod
    def from_key(cls, key: str) -> EmailConfirmation | None:
        try:
            pk = link_read(Link.EMAIL_CONFIRM, key)
        except LinkError:
            return None
        address = EmailAddress.objects.filter(pk=pk, verified=False).first()
        return cls(address) if address is not None else None
