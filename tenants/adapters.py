"""How django-allauth behaves on the platform site and on department portals: program-named
emails sent as the department's (tenants.mail), and sign-ins refused and counted by
tenants.account_lock.

Redis down (the sign-in counters cannot be read or counted, tenants.cache): a sign-in that
cannot be counted is refused, with a plain message and no error page, when the account reaches
evidence or the platform: department staff, anyone with a second factor, Django staff, every
account on the platform site (vendor staff), and an email address that names no account (so the
message does not tell a staff account from an unknown address). A resident signs in, uncounted:
their own registration is all the account holds, and they must be able to reach it. See
limits_unavailable_refusal and docs/operations.md ("Failure mode: Redis down")."""

from __future__ import annotations

import contextlib
import logging
from typing import Any, NamedTuple

from allauth.account.adapter import DefaultAccountAdapter, get_adapter
from allauth.account.models import EmailConfirmationHMAC
from allauth.account.utils import user_email
from allauth.account.views import ConfirmEmailView
from allauth.core import context as allauth_context
from allauth.mfa.base.forms import AuthenticateForm, BaseAuthenticateForm, ReauthenticateForm
from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMessage
from django.db import connection
from django.http import Http404, HttpRequest
from django.urls import reverse
from django.utils.encoding import force_str
from django.utils.translation import gettext as _
from django_tenants.utils import get_public_schema_name
from prometheus_client import Counter

from tenants import account_lock
from tenants.cache import LimitsUnavailable
from tenants.db import tenant_connection
from tenants.http import client_ip
from tenants.mail import department_envelope
from tenants.models import Department, current_department
from tenants.signing import EmailConfirmation

logger = logging.getLogger(__name__)
sign_ins_uncounted_total = Counter(
    "canvass_sign_ins_uncounted_total",
    "Sign-ins while the sign-in counters (Redis) did not answer, by outcome: refused (staff, "
    "unknown addresses) or uncounted (residents, who sign in).",
    ["outcome"],
)


class ProgramSite(NamedTuple):
    """What allauth's email templates read from `current_site`."""

    name: str
    domain: str


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        # Residents sign up on their city's portal; vendor staff are never self-made.
        tenant = getattr(request, "tenant", None)
        return tenant is not None and not tenant.is_platform

    def get_client_ip(self, request: HttpRequest) -> str:
        """allauth's rate limits read the client the way audit entries do (tenants.http)."""
        ip = client_ip(request)
        if ip is None:
            raise PermissionDenied("Unable to determine the client's address.")
        return ip

    def pre_authenticate(self, request: HttpRequest, **credentials: Any) -> None:
        login = _login(credentials)
        try:
            refusal = lock_message(login, client_ip(request))
        except LimitsUnavailable:
            refusal = limits_unavailable_refusal(login)
        if refusal:
            raise ValidationError(refusal)
        super().pre_authenticate(request, **credentials)

    def authentication_failed(self, request: HttpRequest, **credentials: Any) -> None:
        super().authentication_failed(request, **credentials)
        sign_in_failed(request, _login(credentials))

    def login(self, request: HttpRequest, user: AbstractBaseUser) -> None:
        """Called once the whole sign-in (password and second factor) has succeeded."""
        super().login(request, user)
        # While Redis is down nothing was counted for this address: nothing to clear.
        with contextlib.suppress(LimitsUnavailable):
            account_lock.success_record(user_email(user) or "", client_ip(request))

    def get_login_redirect_url(self, request: HttpRequest) -> str:
        """Where a sign-in lands when no page asked for it (a `next` wins, allauth checks it
        first): a department's staff on their console, a resident on "My cameras", anyone
        else (vendor staff on the platform site) on LOGIN_REDIRECT_URL. Routes by name: the
        portal's apps sit above this layer."""
        tenant = getattr(request, "tenant", None)
        user = request.user
        if tenant is not None and not tenant.is_platform and user.is_authenticated:
            # The department's StaffMember and Participant (portal.registry), by their
            # reverse accessors.
            if hasattr(user, "staff"):
                return reverse("department:home")
            if hasattr(user, "participant"):
                return reverse("portal:manage")
        return super().get_login_redirect_url(request)

    def send_mail(self, template_prefix: str, email: str, context: dict[str, Any]) -> None:
        """Account emails greet and sign off with the program's name ("Hello from Concord
        Camera Registry!"), not with the host name allauth would take from the request."""
        tenant = tenant_connection.tenant
        branding = getattr(tenant, "branding", None)
        if tenant is not None and branding is not None and "current_site" not in context:
            context = {
                **context,
                "current_site": ProgramSite(branding.display_name, tenant.primary_domain or ""),
            }
        super().send_mail(template_prefix, email, context)

    def render_mail(
        self,
        template_prefix: str,
        email: str | list[str],
        context: dict[str, Any],
        headers: dict[str, str] | None = None,
    ) -> EmailMessage:
        """Account emails (confirmation, password reset, unlock, second-factor notices) go out
        as the city's, like every other email: its program's name, its Reply-To, its schema."""
        message = super().render_mail(template_prefix, email, context, headers)
        try:
            department: Department | None = current_department()
        except Department.DoesNotExist:
            department = None
        return department_envelope(message, department)

    def send_confirmation_mail(
        self, request: HttpRequest, emailconfirmation: EmailConfirmationHMAC, signup: bool
    ) -> None:
        """The emailed key names its city (tenants.signing.EmailConfirmation)."""
        confirmation = EmailConfirmation(emailconfirmation.email_address)
        super().send_confirmation_mail(request, confirmation, signup)

    def format_email_subject(self, subject: str) -> str:
        """Prefix account emails with the program's name instead of the bare host name."""
        tenant = getattr(connection, "tenant", None)
        branding = getattr(tenant, "branding", None)
        return f"[{branding.display_name if branding else 'Canvass'}] {force_str(subject)}"


class CityConfirmEmailView(ConfirmEmailView):
    """allauth's confirm-email page, reading keys that name their city (allauth has no setting
    for its confirmation class): a key from another city confirms nothing and shows no
    address."""

    def get_object(self, queryset: Any = None) -> EmailConfirmationHMAC:
        confirmation = EmailConfirmation.from_key(self.kwargs["key"])
        if confirmation is None:
            raise Http404
        return confirmation


email_confirm = CityConfirmEmailView.as_view()


def _lock_key(credentials: dict[str, Any]) -> str:
    """Per sign-in identifier; cache keys are already per city (django_tenants.cache)."""
    login = str(credentials.get("email") or credentials.get("username") or "").strip().lower()
    return f"account-lock:{login}"


def _login(credentials: dict[str, Any]) -> str:
    return str(credentials.get("email") or credentials.get("username") or "")


def lock_message(login: str, ip: str | None) -> str | None:
    """What a locked sign-in is told, or None when it may go ahead."""
    lock = account_lock.lock_for(login, ip)
    if lock is account_lock.Lock.ADDRESS:
        return _(
            "Too many failed sign-ins: this account is locked for %(minutes)s minutes. "
            "Try again later."
        ) % {"minutes": settings.ACCOUNT_LOCK_SECONDS // 60}
    if lock is account_lock.Lock.ACCOUNT:
        return _(
            "Too many failed sign-ins to this account from several places: it is locked for "
            "now. Its owner has been emailed a link to unlock it."
        )
    return None


def staff_sign_in_unavailable() -> str:
    """What a sign-in that cannot be counted is told (limits_unavailable_refusal)."""
    return _(
        "Sign-in for staff is briefly unavailable; try again in a few minutes. "
        "Residents can still sign in."
    )


def limits_unavailable_refusal(login: str) -> str | None:
    """The rule while the sign-in counters do not answer (Redis down; module docstring): the
    message refusing this sign-in before its password is checked, or None when it may go
    ahead uncounted (a resident's account). Checked before the password, so an attacker learns
    nothing from a refusal that guessing without a limit would reveal."""
    refused = _limits_required(login)
    sign_ins_uncounted_total.labels(outcome="refused" if refused else "uncounted").inc()
    logger.warning(
        "sign-in counters unavailable (Redis): %s",
        "a sign-in refused (staff, a second factor or no such account)"
        if refused
        else "a resident's sign-in goes ahead uncounted",
    )
    return staff_sign_in_unavailable() if refused else None


def _limits_required(login: str) -> bool:
    """Whether the account `login` names may only sign in with its failures counted."""
    if tenant_connection.schema_name == get_public_schema_name():
        return True  # the platform site: vendor staff only
    user = get_user_model().objects.filter(email__iexact=login.strip()).first()
    if user is None:
        return True  # said like a staff account's refusal: the two cannot be told apart
    return bool(
        user.is_staff
        or user.is_superuser
        or hasattr(user, "staff")  # a department's StaffMember (portal.registry)
        or is_mfa_enabled(user)
    )


def sign_in_failed(request: HttpRequest, login: str) -> None:
    """Count a wrong password or second-factor code; when the account has just been locked
    everywhere, email its owner (if the account exists) the link that unlocks it. Uncounted
    while Redis is down (limits_unavailable_refusal let only residents' sign-ins this far)."""
    try:
        locked = account_lock.failure_record(login, client_ip(request))
    except LimitsUnavailable:
        return
    if not locked:
        return
    user = get_user_model().objects.filter(email__iexact=login.strip()).first()
    if user is None or not user.email:
        return
    token = account_lock.unlock_token(user_pk=user.pk, login=user.email)
    get_adapter(request).send_mail(
        "account/email/account_unlock",
        user.email,
        {
            "user": user,
            "unlock_url": request.build_absolute_uri(reverse("account_unlock", args=[token])),
            "hours": settings.ACCOUNT_UNLOCK_LINK_SECONDS // 3600,
        },
    )


class _LockingCode(BaseAuthenticateForm):
    """The second-factor step (authenticator code or recovery code): refused while the account
    is locked, and each wrong code counted like a wrong password (tenants.account_lock)."""

    def clean_code(self) -> str:
        request = allauth_context.request
        login = user_email(self.user) or ""
        try:
            refusal = lock_message(login, client_ip(request))
        except LimitsUnavailable:
            # A code that cannot be counted is never checked (a second factor is staff-grade).
            refusal = staff_sign_in_unavailable()
        if refusal:
            raise ValidationError(refusal)
        try:
            return super().clean_code()
        except ValidationError as error:
            if error.code == "incorrect_code":
                sign_in_failed(request, login)
                # The failure that locks says so at once, like the password step's next try.
                try:
                    refusal = lock_message(login, client_ip(request))
                except LimitsUnavailable:
                    refusal = staff_sign_in_unavailable()
                if refusal:
                    raise ValidationError(refusal) from error
            raise


class LockingAuthenticateForm(_LockingCode, AuthenticateForm):
    """The second step of a sign-in."""


class LockingReauthenticateForm(_LockingCode, ReauthenticateForm):
    """A signed-in person confirming a sensitive action with a code."""
