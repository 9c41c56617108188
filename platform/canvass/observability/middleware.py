"""The operations endpoints, answered on any host before the tenant middleware, and the log
context of every request.

OperationsMiddleware comes before everything but the request id in settings.MIDDLEWARE:
Kubernetes probes and Prometheus send the pod's IP address as Host, which is no department's
domain and not in ALLOWED_HOSTS; nothing on these paths reads the Host header (so ALLOWED_HOSTS
stays as strict as it is), looks up a department, or redirects to HTTPS."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from asgiref.sync import async_to_sync
from django.contrib.auth.models import AnonymousUser
from django.core.signals import request_finished
from django.http import HttpRequest, HttpResponse

from canvass.observability import health, metrics
from canvass.observability.logs import (
    department_var,
    log_context_clear,
    request_id_from,
    request_id_var,
    role_var,
)
from console.access import vendor_role

LIVE_PATH = "/health/live"
READY_PATH = "/health/ready"
METRICS_PATH = "/metrics"


class OperationsMiddleware:
    """/health/live, /health/ready and /metrics, for any Host (GET and HEAD)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.live = health.LivenessView.as_view()
        self.ready = health.ReadinessView.as_view()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info.rstrip("/") or "/"
        if path not in {LIVE_PATH, READY_PATH, METRICS_PATH}:
            return self.get_response(request)
        if request.method not in {"GET", "HEAD"}:
            return HttpResponse(status=405, headers={"Allow": "GET, HEAD"})
        if path == METRICS_PATH:
            return metrics.metrics_response(request)
        # django-health-check's views are asynchronous; under WSGI they run in a loop of
        # their own, as Django would run them.
        view = self.live if path == LIVE_PATH else self.ready
        response: HttpResponse = async_to_sync(view)(request)
        return response


class RequestIdMiddleware:
    """Gives each request an id (a well-formed X-Request-ID it arrived with, or a new one),
    returned in the X-Request-ID header and written on every log line of the request, with
    the department's schema and the user's role (set by RequestRoleMiddleware)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # Not reset when this returns: Django logs an error response and gunicorn its access
        # line after that, and those lines belong to this request too. request_finished (the
        # response closed) clears it.
        log_context_clear()
        request_id = request_id_from(request.headers.get("X-Request-ID"))
        request_id_var.set(request_id)
        response = self.get_response(request)
        tenant = getattr(request, "tenant", None)
        if department_var.get() is None and tenant is not None:
            department_var.set(tenant.schema_name)  # answered early (a closed city's page)
        response["X-Request-ID"] = request_id
        return response


class RequestRoleMiddleware:
    """After host routing and sign-in (the last of them in settings.MIDDLEWARE): the
    department and the user's role, for the log lines of the view and of Django's own
    request logger (a 404 included)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        tenant = getattr(request, "tenant", None)
        if tenant is not None:
            department_var.set(tenant.schema_name)
        role_var.set(user_role(request))
        return self.get_response(request)


def user_role(request: HttpRequest) -> str:
    """What kind of person makes the request, never who: anonymous, resident, staff:<role>
    (department staff) or vendor:<role>."""
    user = getattr(request, "user", None) or AnonymousUser()
    if not user.is_authenticated:
        return "anonymous"
    tenant = getattr(request, "tenant", None)
    if tenant is None or tenant.is_platform:
        return f"vendor:{vendor_role(user) or 'none'}"
    staff = getattr(user, "staff", None)  # loaded already by StaffSessionMiddleware
    if staff is not None:
        return f"staff:{staff.role}"
    return "resident"


def _log_context_end(**kwargs: Any) -> None:
    log_context_clear()


request_finished.connect(_log_context_end, dispatch_uid="canvass.log_context_end")
