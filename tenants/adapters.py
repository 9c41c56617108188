"""How django-allauth behaves on the platform site and on department portals."""

from __future__ import annotations

from typing import Any, NamedTuple

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.models import EmailConfirmationHMAC
from allauth.account.views import ConfirmEmailView
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import Http404, HttpRequest
from django.utils.encoding import force_str
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _


class ProgramSite(NamedTuple):
    """What allauth's email templates read from `current_site`."""

    name: str
    domain: str


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        # Residents sign up on their city's portal; vendor staff are never self-made.
        tenant = getattr(request, "tenant", None)
        return tenant is not None and not tenant.is_platform

    def pre_authenticate(self, request: HttpRequest, **credentials: Any) -> None:
        super().pre_authenticate(request, **credentials)
        if cache.get(_lock_key(credentials)):
            raise ValidationError(
                _(
                    "Too many failed sign-ins: this account is locked for %(minutes)s minutes. "
                    "Try again later."
                )
                % {"minutes": settings.ACCOUNT_LOCK_SECONDS // 60}
            )

    def authentication_failed(self, request: HttpRequest, **credentials: Any) -> None:
        """After ACCOUNT_LOCK_AFTER_FAILURES failures in a row, lock the account for
        ACCOUNT_LOCK_SECONDS from the last one (a sliding count would unlock sooner)."""
        super().authentication_failed(request, **credentials)
        failures_key = "failures:" + _lock_key(credentials)
        failures = cache.get(failures_key, 0) + 1
        cache.set(failures_key, failures, settings.ACCOUNT_LOCK_SECONDS)
        if failures >= settings.ACCOUNT_LOCK_AFTER_FAILURES:
            cache.set(_lock_key(credentials), True, settings.ACCOUNT_LOCK_SECONDS)
            cache.delete(failures_key)

    def send_mail(self, template_prefix: str, email: str, context: dict[str, Any]) -> None:
        """Account emails greet and sign off with the program's name ("Hello from Concord
        Camera Registry!"), not with the host name allauth would take from the request."""
        tenant = getattr(connection, "tenant", None)
        branding = getattr(tenant, "branding", None)
        if branding is not None and "current_site" not in context:
            context = {
                **context,
                "current_site": ProgramSite(branding.display_name, tenant.primary_domain or ""),
            }
        super().send_mail(template_prefix, email, context)

    def send_confirmation_mail(
        self, request: HttpRequest, emailconfirmation: EmailConfirmationHMAC, signup: bool
    ) -> None:
        """The emailed key names its city (see email_confirmation_class)."""
        confirmation = email_confirmation_class()(emailconfirmation.email_address)
        super().send_confirmation_mail(request, confirmation, signup)

    def format_email_subject(self, subject: str) -> str:
        """Prefix account emails with the program's name instead of the bare host name."""
        tenant = getattr(connection, "tenant", None)
        branding = getattr(tenant, "branding", None)
        return f"[{branding.display_name if branding else 'Canvass'}] {force_str(subject)}"


def email_confirmation_class() -> type[EmailConfirmationHMAC]:
    """The signer of email-confirmation keys, settings.EMAIL_CONFIRMATION_CLASS: the registry
    core's, whose keys name their city (allauth has no setting for it, and this layer may not
    import the registry)."""
    return import_string(settings.EMAIL_CONFIRMATION_CLASS)


class CityConfirmEmailView(ConfirmEmailView):
    """allauth's confirm-email page, reading the key with email_confirmation_class(): a key
    from another city confirms nothing and shows no address."""

    def get_object(self, queryset: Any = None) -> EmailConfirmationHMAC:
        confirmation = email_confirmation_class().from_key(self.kwargs["key"])
        if confirmation is None:
            raise Http404
        return confirmation


email_confirm = CityConfirmEmailView.as_view()


def _lock_key(credentials: dict[str, Any]) -> str:
    """Per sign-in identifier; cache keys are already per city (django_tenants.cache)."""
    login = str(credentials.get("email") or credentials.get("username") or "").strip().lower()
    return f"account-lock:{login}"
