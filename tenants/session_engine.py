"""Django's database sessions (each city's in its own schema), with the one read every signed-in
request makes kept compiled (tenants.compiled): the ORM compiled it on every request, for more
CPU than the database spends answering it; a session naming a backend that tenants.auth_backends
replaced is read as naming its replacement (RENAMED_BACKENDS). Everything else (saving,
deleting, expiry) is Django's."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth import BACKEND_SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.contrib.sessions.models import Session
from django.db import router
from django.utils import timezone

from tenants.auth_backends import ALLAUTH_BACKEND, MODEL_BACKEND
from tenants.compiled import CompiledQuery

_COLUMNS = ["session_key", "session_data", "expire_date"]

# The live (unexpired) session of a key, as Django's own read asks for it.
SESSION_READ = CompiledQuery(
    lambda session_key, now: Session.objects.filter(
        session_key=session_key, expire_date__gt=now
    ).values_list(*_COLUMNS),
    session_key=str,
    now=datetime,
)


# Backends a session may name that tenants.auth_backends took the places of: a session signed in
# before is read as naming the backend that replaced its own (the same users, the same checks),
# so that a deployment of the change signs nobody out. Once every session signed in before it
# has expired (SESSION_COOKIE_AGE after the deployment), this can go.
RENAMED_BACKENDS = {
    "django.contrib.auth.backends.ModelBackend": MODEL_BACKEND,
    "allauth.account.auth_backends.AuthenticationBackend": ALLAUTH_BACKEND,
}


class SessionStore(DatabaseSessionStore):
    def load(self) -> dict[str, Any]:
        data: dict[str, Any] = super().load()
        renamed = RENAMED_BACKENDS.get(data.get(BACKEND_SESSION_KEY))  # type: ignore[arg-type]
        if renamed is not None:
            data[BACKEND_SESSION_KEY] = renamed
        return data

    def _get_session_from_db(self) -> Any:
        """The live session of this key (as Django's: unexpired), or None (the key forgotten)."""
        rows = []
        if self.session_key is not None:
            rows = SESSION_READ.rows(session_key=self.session_key, now=timezone.now())
        if not rows:
            self._session_key = None
            return None
        return self.model.from_db(router.db_for_read(self.model), _COLUMNS, rows[0])
