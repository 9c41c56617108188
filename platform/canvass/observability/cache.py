"""Django's Redis and local-memory caches, counting reads, hits and misses into
django-prometheus' cache counters (its own Redis backend needs django-redis, and its
local-memory one turns a cached 0 or "" into a miss).

Redis down (issue 16): the default cache then answers as an empty cache that keeps nothing (a
read misses, `add` succeeds, a write is dropped, `incr` finds no key), so that no page fails
because a cached figure, a rendered page or allauth's address throttle cannot be read; each
such answer is counted (canvass_cache_unavailable_total) and logged at most once a minute per
process. What must not degrade silently (the sign-in locks, tenants.account_lock) reads the
cache's `strict` twin, which raises as Django's RedisCache does; tenants.cache.limits_cache()
picks it.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.core.cache.backends.locmem import LocMemCache as DjangoLocMemCache
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.utils.functional import cached_property
from django_prometheus.cache.metrics import (
    django_cache_get_fail_total,
    django_cache_get_total,
    django_cache_hits_total,
    django_cache_misses_total,
)
from prometheus_client import Counter
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

_MISSING = object()
# What "Redis does not answer" raises (a refused or reset connection, a timeout, a server still
# loading its data); any other error (a bug, a full memory) is raised as it is.
UNAVAILABLE = (RedisConnectionError, RedisTimeoutError)
# Seconds between two log lines of one process about the cache being unavailable.
LOG_EVERY_SECONDS = 60

logger = logging.getLogger(__name__)
cache_unavailable_total = Counter(
    "canvass_cache_unavailable_total",
    "Cache operations answered as an empty cache because Redis did not answer.",
    ["operation"],
)


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


class StrictRedisCache(_CountedReads, DjangoRedisCache):
    """Django's Redis cache as it is: an operation Redis does not answer raises."""

    backend_label = "redis"


class RedisCache(StrictRedisCache):
    """The default cache: Redis, answering as an empty cache while Redis does not answer
    (module docstring). `strict` is the same cache (same server, keys and prefix) raising
    instead, for the callers that must know."""

    _last_logged = 0.0

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._params = params
        self._server = server

    @cached_property
    def strict(self) -> StrictRedisCache:
        return StrictRedisCache(self._server, self._params)

    def _unavailable(self, operation: str, error: Exception) -> None:
        cache_unavailable_total.labels(operation=operation).inc()
        now = time.monotonic()
        if now - RedisCache._last_logged >= LOG_EVERY_SECONDS:
            RedisCache._last_logged = now
            logger.warning(
                "cache unavailable (Redis does not answer: %s): answered as an empty cache",
                type(error).__name__,
            )

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        try:
            return super().get(key, default, version)
        except UNAVAILABLE as error:
            self._unavailable("get", error)
            return default

    def get_many(self, keys: Any, version: int | None = None) -> dict[Any, Any]:
        try:
            return super().get_many(keys, version)
        except UNAVAILABLE as error:
            self._unavailable("get_many", error)
            return {}

    def has_key(self, key: Any, version: int | None = None) -> bool:
        try:
            return super().has_key(key, version)
        except UNAVAILABLE as error:
            self._unavailable("has_key", error)
            return False

    def add(self, key: Any, value: Any, timeout: Any = 300, version: int | None = None) -> bool:
        # An empty cache adds: a lock taken here (allauth's throttle, a once-a-window record)
        # is held by whoever asks, as each process would hold it alone without Redis.
        try:
            return bool(super().add(key, value, timeout, version))
        except UNAVAILABLE as error:
            self._unavailable("add", error)
            return True

    def set(self, key: Any, value: Any, timeout: Any = 300, version: int | None = None) -> None:
        try:
            super().set(key, value, timeout, version)
        except UNAVAILABLE as error:
            self._unavailable("set", error)

    def set_many(self, data: Any, timeout: Any = 300, version: int | None = None) -> list[Any]:
        try:
            return super().set_many(data, timeout, version)
        except UNAVAILABLE as error:
            self._unavailable("set_many", error)
            return []

    def touch(self, key: Any, timeout: Any = 300, version: int | None = None) -> bool:
        try:
            return bool(super().touch(key, timeout, version))
        except UNAVAILABLE as error:
            self._unavailable("touch", error)
            return False

    def delete(self, key: Any, version: int | None = None) -> bool:
        try:
            return bool(super().delete(key, version))
        except UNAVAILABLE as error:
            self._unavailable("delete", error)
            return False

    def delete_many(self, keys: Any, version: int | None = None) -> None:
        try:
            super().delete_many(keys, version)
        except UNAVAILABLE as error:
            self._unavailable("delete_many", error)

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        try:
            return int(super().incr(key, delta, version))
        except UNAVAILABLE as error:
            self._unavailable("incr", error)
            raise ValueError(f"Key '{key}' not found") from error

    def clear(self) -> None:
        try:
            super().clear()
        except UNAVAILABLE as error:
            self._unavailable("clear", error)


class LocMemCache(_CountedReads, DjangoLocMemCache):
    backend_label = "locmem"
