"""Request routing by host: which department (schema) a request belongs to, its language and
time zone, and which responses no cache may keep."""

from __future__ import annotations

import contextvars
import logging
import pickle
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any, cast

from django.conf import settings
from django.core.cache import cache
from django.core.signals import request_finished
from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.cache import add_never_cache_headers
from django_tenants.middleware.main import TenantMainMiddleware
from django_tenants.utils import get_public_schema_name, schema_context

from tenants.models import Department, Domain

logger = logging.getLogger(__name__)


def _domains(domain_model: type[Domain] = Domain) -> Any:
    """Domains with their department, its branding and programme, in one query."""
    return domain_model.objects.select_related("tenant", "tenant__branding", "tenant__program")


# The search path the connection's session holds while DepartmentMiddleware routes a request
# (search_path_keep), per thread.
_path_set: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar(
    "tenants_path_set", default=None
)


class DepartmentMiddleware(TenantMainMiddleware):
    """django-tenants' host routing, loading branding and program in the same query, then the
    department's time zone for the rest of the request: typed times are read, and every time on
    a page or in an email is written, in the city's local time."""

    def get_tenant(self, domain_model: type[Domain], hostname: str) -> Department:
        """The host's department from this process's cache (department_copy_for_host): no
        query for most requests. Each request gets its own copy, so that nothing one request
        sets on it (django-tenants sets `domain_url`; a form may fill the programme) reaches
        another."""
        department = department_copy_for_host(hostname)
        database: Any = connection  # django-tenants' backend
        if database.search_path_set_schemas is not None:
            # The lookup read the database: the session's path is now the public schema's.
            _path_set.set(database.search_path_set_schemas)
        if department is None:
            raise domain_model.DoesNotExist
        return department

    def process_request(self, request: HttpRequest) -> HttpResponse | None:
        # A thread serves many cities: never inherit the previous request's zone.
        timezone.deactivate()
        # The search path this (persistent) connection last set, if the backend still trusts
        # it: set_tenant forgets it, so that every request would send `SET search_path` again.
        _path_set.set(cast(Any, connection).search_path_set_schemas)
        response = super().process_request(request)
        search_path_keep(_path_set.get())
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


def search_path_keep(path_set: list[str] | None) -> None:
    """After set_tenant: if the connection's search path, as last set, is already the one
    the new schema needs, say so to the backend (TENANT_LIMIT_SET_CALLS), which then sends no
    `SET search_path` for this request. Only the exact same path is kept: another city's
    schema always sets its own. The backend forgets what it set whenever the database may have
    (closing, a rollback, a savepoint's rollback), so `path_set` is what the session holds."""
    database: Any = connection  # django-tenants' backend
    if (
        path_set is not None
        and settings.TENANT_LIMIT_SET_CALLS
        and database.search_path_set_schemas is None
        and database._get_cursor_search_paths() == path_set
    ):
        database.search_path_set_schemas = path_set


# How long a process trusts what it read of a host's department (department_for_host): a change
# made in another process when the shared cache is not Redis (or is down), or by SQL outside the
# models, reaches the pages within this time. settings.TENANT_HOST_CACHE_SECONDS.
HOST_CACHE_SECONDS = 5.0
HOST_CACHE_SIZE = 1000  # hostnames of real departments; past it, the cache starts again
# The departments' version stamp in the shared cache (Redis in production): any change to a
# department, its domains, branding or programme (a suspension included) sets a new one, and
# every process, reading it at most once every HOST_STAMP_CHECK_SECONDS, forgets what it kept.
HOST_STAMP_KEY = "tenants:hosts-stamp"
HOST_STAMP_CHECK_SECONDS = 1.0
# By hostname: when it was read, the department, and the department pickled (a request's own
# copy is unpickled from it: a fifth of what copy.deepcopy costs, with the branding's and the
# programme's links back to their own copy of the department as deepcopy makes them).
_hosts: dict[str, tuple[float, Department, bytes]] = {}
_hosts_lock = threading.Lock()
_stamp: dict[str, Any] = {"seen": None, "checked_at": float("-inf")}
# How many times this process forgot its departments: what was kept from them (the kept pages,
# tenants.page_cache) is stale once it moves.
_generation = {"value": 0}


def department_for_host(hostname: str) -> Department | None:
    """The department a hostname serves (branding and programme loaded), or None, from a cache
    per process: every page's host lookup (DepartmentMiddleware) and the media relay's
    authorisation (portal.liveview). What it returns is shared: copy it before changing it.

    A change made through the models (a save, a deletion, a queryset's update: a suspension, a
    domain, the branding) is seen at once in the process that made it, within
    HOST_STAMP_CHECK_SECONDS in the others when the shared cache is Redis (the version stamp),
    and within TENANT_HOST_CACHE_SECONDS at worst."""
    kept = _host_kept(hostname)
    return None if kept is None else kept[1]


def department_copy_for_host(hostname: str) -> Department | None:
    """department_for_host(), as a copy of the request's own (nothing shared with the kept
    one or with another request's)."""
    kept = _host_kept(hostname)
    return None if kept is None else cast(Department, pickle.loads(kept[2]))


def _host_kept(hostname: str) -> tuple[float, Department, bytes] | None:
    hostname = hostname.strip().lower().rstrip(".")
    now = time.monotonic()
    _stamp_check(now)
    cached = _hosts.get(hostname)
    if cached is not None and now - cached[0] < settings.TENANT_HOST_CACHE_SECONDS:
        return cached
    domain = _domains().filter(domain=hostname).first()
    if domain is None:
        # Not kept: any Host header can be sent, and the cache must not grow with them.
        return None
    # Pickled here, in this process, from the rows just read: never bytes from elsewhere.
    kept = (now, domain.tenant, pickle.dumps(domain.tenant, pickle.HIGHEST_PROTOCOL))
    with _hosts_lock:
        if len(_hosts) >= HOST_CACHE_SIZE:
            _hosts.clear()
        _hosts[hostname] = kept
    return kept


def _stamp_check(now: float) -> None:
    """Forget the kept departments when another process changed one (a new stamp)."""
    if now - _stamp["checked_at"] < HOST_STAMP_CHECK_SECONDS:
        return
    _stamp["checked_at"] = now
    try:
        with schema_context(get_public_schema_name()):  # the key is the same in every schema
            stamp = cache.get(HOST_STAMP_KEY)
    except Exception:  # the shared cache down: the time limit alone bounds what is kept
        logger.warning("department version stamp unreadable", exc_info=True)
        return
    if stamp != _stamp["seen"]:
        _stamp["seen"] = stamp
        hosts_forget()


def hosts_forget() -> None:
    """Forget every department this process kept (the next request reads its own again)."""
    with _hosts_lock:
        _hosts.clear()
        _generation["value"] += 1


def hosts_reset() -> None:
    """Forget the departments and the last stamp seen (a test's start, with the shared cache
    just emptied: no stamp is then no news)."""
    hosts_forget()
    _stamp["seen"] = None
    _stamp["checked_at"] = float("-inf")


def hosts_generation() -> int:
    """A number that changes whenever this process forgets its departments (a change to one
    here, or another process's new stamp, checked at most once a second)."""
    _stamp_check(time.monotonic())
    return _generation["value"]


def hosts_changed(**kwargs: Any) -> None:
    """A department, a domain, a branding or a programme changed: forget them here at once, and
    tell the other processes through a new stamp, now and again when the change commits (a
    process may read the old rows in between)."""
    hosts_forget()
    _stamp_bump()
    transaction.on_commit(_forget_and_bump)


def _forget_and_bump() -> None:
    """On commit: forget again here (a request of this process may have read the old rows
    meanwhile) and tell the others."""
    hosts_forget()
    _stamp_bump()


def _stamp_bump() -> None:
    stamp = uuid.uuid4().hex
    try:
        with schema_context(get_public_schema_name()):  # the key is the same in every schema
            cache.set(HOST_STAMP_KEY, stamp, None)
        # This process forgot already (hosts_changed): its own stamp is no news to it.
        _stamp["seen"] = stamp
    except Exception:  # the others then see the change within TENANT_HOST_CACHE_SECONDS
        logger.warning("department version stamp not set", exc_info=True)


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
