"""Who is signed in, read from the current schema's sessions (each city keeps its own), and
ending every session of one account. Sessions live in the database (Django's default engine);
a session names its user only inside its encoded data, so these read each live session."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.utils import timezone


def _session_user(session: Session) -> str | None:
    user_id = session.get_decoded().get(SESSION_KEY)
    return str(user_id) if user_id is not None else None


def users_signed_in(user_ids: Iterable[int]) -> set[int]:
    """The accounts among `user_ids` that have a session which has not expired."""
    wanted = {str(user_id) for user_id in user_ids}
    if not wanted:
        return set()
    found: set[int] = set()
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        user_id = _session_user(session)
        if user_id in wanted:
            found.add(int(user_id))
    return found


def sessions_end(*, user_id: int) -> int:
    """Sign one account out everywhere in this city: delete its sessions. Returns how many."""
    keys = [
        session.session_key
        for session in Session.objects.iterator()
        if _session_user(session) == str(user_id)
    ]
    deleted, _kinds = Session.objects.filter(session_key__in=keys).delete()
    return deleted


def expired_session_user(session_key: str) -> int | None:
    """The account of an expired session (one the browser still presents), deleting it: the
    idle limit ended it without anyone signing out, and this is the first sign of it."""
    session = Session.objects.filter(session_key=session_key, expire_date__lte=timezone.now())
    found = session.first()
    if found is None:
        return None
    user_id = _session_user(found)
    session.delete()
    return int(user_id) if user_id is not None else None
