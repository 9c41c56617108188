"""The cache for limits that protect accounts (failed sign-ins, request throttles): the
default cache's `strict` twin where it has one (canvass.observability.cache.RedisCache, which
otherwise answers as an empty cache while Redis is down), so that a limit that cannot be
counted is known, and refused or waived by a rule, never skipped by accident."""

from __future__ import annotations

from django.core.cache import cache
from django.core.cache.backends.base import BaseCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

# What "Redis does not answer" raises.
UNAVAILABLE = (RedisConnectionError, RedisTimeoutError)


class LimitsUnavailable(Exception):
    """The shared cache that counts a limit does not answer (Redis is down)."""


def limits_cache() -> BaseCache:
    """The cache limits are counted in: raising when Redis does not answer."""
    return getattr(cache, "strict", cache)
