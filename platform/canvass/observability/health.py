"""Liveness and readiness, through django-health-check, answered as JSON.

/health/live: the process answers (no dependency is asked: a database outage must not make
Kubernetes restart every web pod). /health/ready: the database answers; 503 otherwise, so that
the load balancer stops sending requests to this pod. The cache and the Celery broker (Redis)
are asked and reported too, but a pod serves without them (issue 16: sign-in goes on, notices
wait in the outbox), so their failure is "degraded", still 200: taking every pod out of the
load balancer for a Redis outage would turn a degraded service into no service."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from health_check import checks
from health_check.base import HealthCheck, HealthCheckResult
from health_check.exceptions import ServiceUnavailable
from health_check.views import HealthCheckView

# Kubernetes waits a second by default for a probe: a check that hangs (a database host that
# drops packets) fails long before the probe's own timeout would.
CHECK_TIMEOUT = datetime.timedelta(seconds=2)


@dataclasses.dataclass
class Database(checks.Database):
    """SELECT 1 on the default database (the application's role), public schema."""

    name = "database"
    timeout = CHECK_TIMEOUT


@dataclasses.dataclass
class Cache(checks.Cache):
    """A value written to and read back from the default cache (Redis in production)."""

    name = "cache"
    timeout: datetime.timedelta = dataclasses.field(default=CHECK_TIMEOUT, repr=False)


@dataclasses.dataclass
class Broker(HealthCheck):
    """The Celery broker answers a PING (Redis). Without CELERY_BROKER_URL tasks run in the
    web process itself (the demo): nothing to ask, and the result says so."""

    name = "broker"
    timeout = CHECK_TIMEOUT

    def pretty_status(self) -> str:
        return "OK (no broker: tasks run in-process)" if self.eager() else "OK"

    @staticmethod
    def eager() -> bool:
        return bool(settings.CELERY_TASK_ALWAYS_EAGER)

    async def run(self) -> None:
        if self.eager():
            return
        from redis.asyncio import Redis
        from redis.exceptions import RedisError

        seconds = self.timeout.total_seconds()
        client = Redis.from_url(
            settings.CELERY_BROKER_URL, socket_timeout=seconds, socket_connect_timeout=seconds
        )
        try:
            await client.ping()
        except (RedisError, OSError) as error:
            raise ServiceUnavailable("the broker does not answer") from error
        finally:
            await client.aclose()


# The checks whose failure makes a pod not ready; the others only make it "degraded".
REQUIRED = frozenset({"database"})


class ProbeView(HealthCheckView):
    """django-health-check's checks, always answered as JSON: 200 when every check passes,
    503 with what failed otherwise (the library's HTML and feeds are not for probes)."""

    checks: tuple[Any, ...] = ()

    async def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        with self.get_executor() as executor:
            self.results: list[HealthCheckResult] = await asyncio.gather(
                *(check.get_result(executor) for check in self.get_checks())
            )
        failed = any(result.error for result in self.results if result.check.name in REQUIRED)
        degraded = any(result.error for result in self.results)
        return JsonResponse(
            {
                "status": "unavailable" if failed else "degraded" if degraded else "ok",
                "checks": {
                    getattr(result.check, "name", type(result.check).__name__): (
                        str(result.error) if result.error else result.check.pretty_status()
                    )
                    for result in self.results
                },
            },
            status=503 if failed else 200,
        )


class LivenessView(ProbeView):
    checks = ()


class ReadinessView(ProbeView):
    checks = (Database, Cache, Broker)
