"""Request routing by host: which department (schema) a request belongs to, its language and
time zone, and which responses no cache may keep."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.signals import request_finished
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.cache import add_never_cache_headers
from django_tenants.middleware.main import TenantMainMiddleware

from tenants.models import Department, Domain


def _domains(domain_model: type[Domain] = Domain) -> Any:
    """Domains with their department, its branding and programme, in one query."""
    return domain_model.objects.select_related("tenant", "tenant__branding", "tenant__program")


class DepartmentMiddleware(TenantMainMiddleware):
    """django-tenants' host routing, loading branding and program in the same query, then the
    department's time zone for the rest of the request: typed times are read, and every time on
    a page or in an email is written, in the city's local time."""

    def get_tenant(self, domain_model: type[Domain], hostname: str) -> Department:
        return _domains(domain_model).get(domain=hostname).tenant

    def process_request(self, request: HttpRequest) -> HttpResponse | None:
        # A thread serves many cities: never inherit the previous request's zone.
        timezone.deactivate()
        response = super().process_request(request)
        tenant = getattr(request, "tenant", None)
        if isinstance(tenant, Department):
            # Activated rather than a with-block: a streamed response (a CSV export) is written
            # after this middleware returns; request_finished puts the default back.
            timezone.activate(tenant.zone)
        if response is None and tenant is not None and not tenant.is_serving:
            # A suspended (or not yet provisioned) department's portal is closed; data stays.
            return HttpResponse(
                render_to_string("tenants/suspended.html", {"department": tenant}), status=503
            )
        return response


# How long a process trusts what it read of a host's department (department_for_host): a change
# of domain, status or programme settings reaches the lean paths within this time.
HOST_CACHE_SECONDS = 5.0
HOST_CACHE_SIZE = 1000  # hostnames of real departments; past it, the cache starts again
_hosts: dict[str, tuple[float, Department]] = {}
_hosts_lock = threading.Lock()


def department_for_host(hostname: str) -> Department | None:
    """The department a hostname serves (branding and programme loaded), or None, from a cache
    of HOST_CACHE_SECONDS per process: for requests that come many times a second and need no
    more of Django than the city (the media relay's authorisation, portal.liveview)."""
    hostname = hostname.strip().lower().rstrip(".")
    now = time.monotonic()
    cached = _hosts.get(hostname)
    if cached is not None and now - cached[0] < HOST_CACHE_SECONDS:
        return cached[1]
    domain = _domains().filter(domain=hostname).first()
    if domain is None:
        # Not kept: any Host header can be sent, and the cache must not grow with them.
        return None
    with _hosts_lock:
        if len(_hosts) >= HOST_CACHE_SIZE:
            _hosts.clear()
        _hosts[hostname] = (now, domain.tenant)
    return domain.tenant


def _time_zone_reset(**kwargs: Any) -> None:
    """Code that runs after a request in the same thread (tests, a command) starts in UTC."""
    timezone.deactivate()


request_finished.connect(_time_zone_reset, dispatch_uid="tenants.time_zone_reset")


class DepartmentLanguageMiddleware:
    """Keep each portal to the languages its department enabled (after LocaleMiddleware)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        branding = getattr(getattr(request, "tenant", None), "branding", None)
        if branding is not None and translation.get_language() not in branding.languages:
            translation.activate(branding.default_language)
            request.LANGUAGE_CODE = branding.default_language
        return self.get_response(request)


class NoStoreMiddleware:
    """`Cache-Control: no-store` on everything a signed-in person sees (portal pages, the
    consoles, clip downloads, exports) and on the pages a link opens without signing in
    (settings.NO_STORE_PATH_PREFIXES: answers, yearly confirmation, account links): no browser
    or proxy cache keeps personal data. Static files are served before this (WhiteNoise)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        signed_in = user is not None and user.is_authenticated
        if signed_in or request.path.startswith(tuple(settings.NO_STORE_PATH_PREFIXES)):
            add_never_cache_headers(response)
        return response
