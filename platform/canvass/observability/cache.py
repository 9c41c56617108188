"""Django's Redis and local-memory caches, counting reads, hits and misses into
django-prometheus' cache counters (its own Redis backend needs django-redis, and its
local-memory one turns a cached 0 or "" into a miss)."""

from __future__ import annotations

from typing import Any

from django.core.cache.backends.locmem import LocMemCache as DjangoLocMemCache
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django_prometheus.cache.metrics import (
    django_cache_get_fail_total,
    django_cache_get_total,
    django_cache_hits_total,
    django_cache_misses_total,
)

_MISSING = object()


class _CountedReads:
    backend_label = ""

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        django_cache_get_total.labels(backend=self.backend_label).inc()
        try:
            value = super().get(key, _MISSING, version)  # type: ignore[misc]
        except Exception:
            django_cache_get_fail_total.labels(backend=self.backend_label).inc()
            raise
        if value is _MISSING:
            django_cache_misses_total.labels(backend=self.backend_label).inc()
            return default
        django_cache_hits_total.labels(backend=self.backend_label).inc()
        return value


class RedisCache(_CountedReads, DjangoRedisCache):
    backend_label = "redis"


class LocMemCache(_CountedReads, DjangoLocMemCache):
    backend_label = "locmem"
