"""Failed sign-ins (passwords and second-factor codes), counted in the shared cache: a lock per
account and address, a slower throttle per account, and the signed, single-use link that lifts
the throttle.

Why two counters: a lock per account alone lets anyone who knows an email address keep its
owner out for good; a lock per address alone lets a botnet guess forever. So 5 failures lock
that account *from that address* for 10 minutes (the owner, elsewhere, still signs in), and 20
failures from anywhere within an hour lock the account everywhere and email its owner a link
that lifts the lock and lets the address that opens it sign in again.

The counters live in Django's cache, which is Redis in production (the settings refuse to start
without it), so every worker process counts together; cache keys carry the schema
(django_tenants.cache), so each city counts its own accounts. They are read through the cache's
strict twin (tenants.cache.limits_cache): while Redis is down every function here raises
LimitsUnavailable, and the sign-in decides (tenants.adapters.limits_unavailable_refusal: staff
are refused, residents sign in uncounted) instead of a lock being skipped by accident.
"""

from __future__ import annotations

import enum
import functools
import hashlib
import secrets
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from django.conf import settings
from django.core.cache.backends.base import BaseCache

from tenants.cache import UNAVAILABLE, LimitsUnavailable, limits_cache
from tenants.signing import Link, LinkError, link_read, link_sign

P = ParamSpec("P")
R = TypeVar("R")


def _counted(function: Callable[P, R]) -> Callable[P, R]:
    """Redis not answering becomes LimitsUnavailable, which callers decide about."""

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return function(*args, **kwargs)
        except UNAVAILABLE as error:
            raise LimitsUnavailable(str(error)) from error

    return wrapper


class _Cache:
    """The limits cache, looked up at each use (tests and settings may replace the cache)."""

    def __getattr__(self, name: str) -> Any:
        target: BaseCache = limits_cache()
        return getattr(target, name)


cache = _Cache()


class Lock(enum.Enum):
    ADDRESS = "address"  # this account, from this address
    ACCOUNT = "account"  # this account, from everywhere but addresses its owner unlocked from


def login_key(login: str) -> str:
    """The account's part of a cache key: a digest, so the cache never holds an email address."""
    return hashlib.sha256(login.strip().lower().encode()).hexdigest()[:32]


def _keys(login: str, ip: str | None) -> dict[str, str]:
    account = login_key(login)
    address = ip or "unknown"
    return {
        "pair_failures": f"signin:failures:{account}:{address}",
        "pair_lock": f"signin:lock:{account}:{address}",
        "account_failures": f"signin:failures:{account}",
        "account_lock": f"signin:lock:{account}",
        "trusted": f"signin:trusted:{account}:{address}",
        "unlock_nonce": f"signin:unlock:{account}",
    }


@_counted
def lock_for(login: str, ip: str | None) -> Lock | None:
    """The lock that refuses this sign-in, if any."""
    keys = _keys(login, ip)
    if cache.get(keys["pair_lock"]):
        return Lock.ADDRESS
    if cache.get(keys["account_lock"]) and not cache.get(keys["trusted"]):
        return Lock.ACCOUNT
    return None


@_counted
def counter_add(key: str, window_seconds: int) -> int:
    """Add one to a counter that expires window_seconds after its first count; atomic in Redis,
    so that workers counting at once never lose a failure."""
    cache.add(key, 0, window_seconds)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, window_seconds)
        return 1


@_counted
def failure_record(login: str, ip: str | None) -> bool:
    """Count one failed sign-in (a wrong password or second-factor code) for the account from
    this address; lock what the counts call for. True when this failure has just locked the
    account everywhere (the caller emails its owner the unlock link)."""
    keys = _keys(login, ip)
    if counter_add(keys["pair_failures"], settings.ACCOUNT_LOCK_SECONDS) >= (
        settings.ACCOUNT_LOCK_AFTER_FAILURES
    ):
        # The lock runs ACCOUNT_LOCK_SECONDS from the last failure; a fresh count starts after.
        cache.set(keys["pair_lock"], True, settings.ACCOUNT_LOCK_SECONDS)
        cache.delete(keys["pair_failures"])
    if counter_add(keys["account_failures"], settings.ACCOUNT_THROTTLE_SECONDS) >= (
        settings.ACCOUNT_THROTTLE_FAILURES
    ):
        # add() is true once per lock: the owner gets one email, not one per later failure.
        return bool(cache.add(keys["account_lock"], True, settings.ACCOUNT_THROTTLE_SECONDS))
    return False


@_counted
def success_record(login: str, ip: str | None) -> None:
    """A completed sign-in (password and second factor) clears this address's count. The
    account-wide count stays: successful sign-ins slipped between guesses must not reset it."""
    cache.delete(_keys(login, ip)["pair_failures"])


@_counted
def unlock_token(*, user_pk: int, login: str) -> str:
    """A signed link token for the account's owner; only the newest one works, and only once."""
    nonce = secrets.token_urlsafe(16)
    cache.set(_keys(login, None)["unlock_nonce"], nonce, settings.ACCOUNT_UNLOCK_LINK_SECONDS)
    return link_sign(Link.ACCOUNT_UNLOCK, {"u": user_pk, "n": nonce})


def unlock_token_read(token: str) -> dict[str, Any] | None:
    """The token's content if it is genuine, of this city and not expired; else None."""
    try:
        payload = link_read(Link.ACCOUNT_UNLOCK, token)
    except LinkError:
        return None
    return payload if isinstance(payload, dict) else None


@_counted
def unlock_pending(*, payload: dict[str, Any], login: str) -> bool:
    """Whether the link is still the account's newest, unused one (the page says so at once)."""
    nonce = cache.get(_keys(login, None)["unlock_nonce"])
    return bool(nonce) and secrets.compare_digest(str(nonce), str(payload.get("n", "")))


@_counted
def account_unlock(*, payload: dict[str, Any], login: str, ip: str | None) -> bool:
    """Lift the account-wide lock with a link's payload, once: the address that opened the link
    signs in even if guesses from elsewhere lock the account again, for a day."""
    keys = _keys(login, ip)
    nonce = cache.get(keys["unlock_nonce"])
    if not nonce or not secrets.compare_digest(str(nonce), str(payload.get("n", ""))):
        return False
    if not cache.delete(keys["unlock_nonce"]):
        return False  # another request used it at the same moment
    cache.delete_many(
        [keys["account_lock"], keys["account_failures"], keys["pair_lock"], keys["pair_failures"]]
    )
    cache.set(keys["trusted"], True, settings.ACCOUNT_UNLOCK_LINK_SECONDS)
    return True
