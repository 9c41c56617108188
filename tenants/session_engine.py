"""Django's database sessions (each city's in its own schema), with the one read every signed-in
request makes written once in SQL: the ORM compiled it on every request, for more CPU than the
database spends answering it. Everything else (saving, deleting, expiry) is Django's."""

from __future__ import annotations

from typing import Any

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.contrib.sessions.models import Session
from django.db import connections, router
from django.utils import timezone

_COLUMNS = ["session_key", "session_data", "expire_date"]


def _read_sql(alias: str) -> str:
    quote = connections[alias].ops.quote_name
    columns = {field.name: quote(field.column) for field in Session._meta.concrete_fields}
    return "SELECT {selected} FROM {table} WHERE {key} = %s AND {expires} > %s".format(
        selected=", ".join(columns[name] for name in _COLUMNS),
        table=quote(Session._meta.db_table),
        key=columns["session_key"],
        expires=columns["expire_date"],
    )


class SessionStore(DatabaseSessionStore):
    _sql: dict[str, str] = {}

    def _get_session_from_db(self) -> Any:
        """The live session of this key (as Django's: unexpired), or None (the key forgotten)."""
        alias = router.db_for_read(self.model)
        sql = self._sql.get(alias) or self._sql.setdefault(alias, _read_sql(alias))
        row = None
        if self.session_key is not None:
            with connections[alias].cursor() as cursor:
                cursor.execute(sql, [self.session_key, timezone.now()])
                row = cursor.fetchone()
        if row is None:
            self._session_key = None
            return None
        return self.model.from_db(alias, _COLUMNS, row)
