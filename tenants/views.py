"""Responses that belong to no department (an unknown host) or to every site alike (the link
that unlocks an account locked by failed sign-ins)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse, HttpResponseNotFound, HttpResponseRedirect
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import check_for_language
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from tenants import account_lock
from tenants.cache import LimitsUnavailable
from tenants.http import client_ip


def unknown_host(request: HttpRequest) -> HttpResponse:
    """A plain 404 for a host that no department or platform domain claims."""
    return HttpResponseNotFound(
        render_to_string("tenants/unknown_host.html", {"host": request.get_host()})
    )


@require_http_methods(["GET", "HEAD", "POST"])
def account_unlock(request: HttpRequest, token: str) -> HttpResponse:
    """The emailed unlock link: a page with a button, and the unlock on POST only (mail scanners
    that open links must not spend it, nor have their own address trusted). While Redis (which
    holds the link's nonce and the lock) is down, the page says to try again shortly; the link
    stays unspent."""
    try:
        return _account_unlock(request, token)
    except LimitsUnavailable:
        return _unlock_page(request, "unavailable")


def _account_unlock(request: HttpRequest, token: str) -> HttpResponse:
    payload = account_lock.unlock_token_read(token)
    user = None
    if payload is not None and isinstance(payload.get("u"), int):
        user = get_user_model().objects.filter(pk=payload["u"]).first()
    if payload is None or user is None or not user.email:
        return _unlock_page(request, "invalid")
    if not account_lock.unlock_pending(payload=payload, login=user.email):
        return _unlock_page(request, "invalid")
    if request.method != "POST":
        return _unlock_page(request, "ready")
    if not account_lock.account_unlock(payload=payload, login=user.email, ip=client_ip(request)):
        return _unlock_page(request, "invalid")
    return _unlock_page(request, "unlocked")


def _unlock_page(request: HttpRequest, state: str) -> HttpResponse:
    status = {"invalid": 400, "unavailable": 503}.get(state, 200)
    return render(request, "tenants/account_unlock.html", {"state": state}, status=status)


@require_safe
@never_cache
def language_switch(request: HttpRequest) -> HttpResponse:
    """The language switch of the platform site and of every city's portal: a GET form (kept
    pages carry no CSRF token, tenants.page_cache) that sets Django's language cookie, as
    set_language does, and returns to the page it came from on the same host."""
    next_url = request.GET.get("next", "/")
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = "/"
    response = HttpResponseRedirect(next_url)
    code = request.GET.get("language", "")
    if code in dict(settings.LANGUAGES) and check_for_language(code):
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            code,
            max_age=settings.LANGUAGE_COOKIE_AGE,
            path=settings.LANGUAGE_COOKIE_PATH,
            domain=settings.LANGUAGE_COOKIE_DOMAIN,
            secure=settings.LANGUAGE_COOKIE_SECURE,
            httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
            samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        )
    return response
