"""Queries written once with Django's ORM and compiled to SQL once per process.

Building and compiling a queryset costs Python time at every call (a canvass page's distance
search: about 3 ms of the page's CPU on a 2-core machine, more than PostgreSQL takes to run it).
A `CompiledQuery` builds its queryset once with stand-in values in the places that change from
call to call (its slots), finds where each lands among the compiled parameters, and from then on
runs the same SQL with the call's values put in those places. The queryset stays the one
definition of the query (its rules, its joins, its columns); only its compilation is kept.

Safe because the SQL names no schema (django-tenants sets the search path of each city's
connection) and each query is checked as it is first compiled: it is compiled twice with
different stand-ins, and the two must differ only in the slots' places (a value read from the
clock while building, or a stand-in the ORM rewrote, would show), and every slot must land
somewhere. Rows come back as Django's values_list() gives them (its converters applied).
tests/tenants/test_compiled.py compares each kept query's rows with its queryset's.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from django.db import connections, router
from django.db.models import BooleanField, Func, Model, QuerySet
from django.db.models.query import ValuesListIterable
from psycopg.types import numeric


class AnyOf(Func):
    """Whether an expression is one of a list of keys, with the list as one parameter (an
    array): `expression = ANY(%s)`. Django's `__in` writes one parameter per key, so its SQL
    changes with the list's length; this keeps one SQL for any list (and an empty one)."""

    output_field = BooleanField()

    def __init__(self, expression: Any, keys: Sequence[int]) -> None:
        super().__init__(expression)
        self.keys = keys

    def as_sql(  # type: ignore[override]
        self, compiler: Any, connection: Any, **extra_context: Any
    ) -> tuple[str, tuple[Any, ...]]:
        sql, params = compiler.compile(self.source_expressions[0])
        return f"{sql} = ANY(%s::bigint[])", (*params, self.keys)


class CompileError(RuntimeError):
    """A query that cannot be kept compiled (see the module's text)."""


# Stand-ins for the slots, two sets (each query is compiled with both). Integers within the
# range of a positive 2-byte column (Django turns a comparison with a value out of a column's
# range into "always" or "never"), floats, key lists, texts and times no query would hold (one
# that did would differ between the two compilations, and be refused).
STAND_INS: dict[type, tuple[Callable[[int], Any], Callable[[int], Any]]] = {
    int: (lambda n: 32_001 + 2 * n, lambda n: 32_002 + 2 * n),
    float: (lambda n: -7.0312577e-211 * (n + 1), lambda n: -3.1415926e-207 * (n + 1)),
    list: (lambda n: [2_000_000_001, n], lambda n: [2_000_000_003, n]),
    str: (lambda n: f"compiled stand-in {n} a7f3", lambda n: f"compiled stand-in {n} 9c1e"),
    datetime: (
        lambda n: datetime(1901, 2, 3, 4, 5, 6, 7 + n, tzinfo=UTC),
        lambda n: datetime(1902, 3, 4, 5, 6, 7, 8 + n, tzinfo=UTC),
    ),
}


Converters = tuple[tuple[int, tuple[tuple[Callable[..., Any], ...], Any]], ...]


@dataclass(frozen=True)
class _Compilation:
    """One compilation of the query with one set of stand-ins."""

    sql: str
    params: tuple[Any, ...]
    stand_ins: dict[str, Any]
    # How many of each row's columns are the query's (Django adds some for its ordering).
    columns: int | None
    # The database the queryset reads (its router's choice).
    alias: str
    # Django's converters of the columns that have any (compiler.get_converters), applied
    # to each row as Django's own iteration would.
    converters: Converters


@dataclass(frozen=True)
class _Compiled:
    """What is kept: the SQL, its parameters, and how its rows are read."""

    sql: str
    # Each parameter: (None, a constant as compiled), or (a slot's name, None or the type Django
    # gave the slot's value: the driver's Int2 for a small integer column, say).
    parameters: tuple[tuple[str | None, Any], ...]
    columns: int | None
    alias: str
    converters: Converters


class CompiledQuery:
    """A query built by `build(**slots)` (a queryset of tuples: `values_list`), compiled on its
    first run and run again with new values by `rows(**values)`."""

    def __init__(self, build: Callable[..., QuerySet[Any, Any]], **slots: type) -> None:
        unknown = set(slots.values()) - set(STAND_INS)
        if unknown:
            raise CompileError(f"no stand-in for slots of type {unknown}")
        self.build = build
        self.slots = slots
        self._compiled: _Compiled | None = None
        self._lock = threading.Lock()

    def rows(self, **values: Any) -> list[tuple[Any, ...]]:
        """The query's rows with these values in its slots."""
        if set(values) != set(self.slots):
            raise TypeError(f"values for {sorted(self.slots)} expected, got {sorted(values)}")
        compiled = self._compiled or self._compile()
        if not all(_fits(held, values[slot]) for slot, held in compiled.parameters if slot):
            # Out of its column's range: Django's ORM makes the comparison "always" or
            # "never" where the driver would refuse the value. The ORM answers.
            return list(self.build(**values))
        parameters = [_parameter(slot, held, values) for slot, held in compiled.parameters]
        connection = connections[compiled.alias]
        # Prepared once per connection where the backend can (tenants.postgresql).
        cursor_for = getattr(connection, "prepared_cursor", connection.cursor)
        with cursor_for() as cursor:
            cursor.execute(compiled.sql, parameters)
            rows = cursor.fetchall()
        if compiled.columns is not None:
            rows = [row[: compiled.columns] for row in rows]
        if compiled.converters:
            rows = [_converted(row, connection, compiled.converters) for row in rows]
        return rows

    def _compile(self) -> _Compiled:
        with self._lock:
            if self._compiled is None:
                self._compiled = self._slotted(self._compiled_with(0), self._compiled_with(1))
            return self._compiled

    def _compiled_with(self, which: int) -> _Compilation:
        """The query compiled with the first (0) or the second (1) set of stand-ins."""
        stand_ins = {
            name: STAND_INS[kind][which](number)
            for number, (name, kind) in enumerate(sorted(self.slots.items()))
        }
        queryset = self.build(**stand_ins)
        if queryset._iterable_class is not ValuesListIterable:
            raise CompileError("only a values_list() query's rows can be kept (tuples)")
        compiler = queryset.query.get_compiler(using=queryset.db)
        sql, params = compiler.as_sql()
        converters = compiler.get_converters(
            [column for column, *_rest in compiler.select[: compiler.col_count]]
        )
        return _Compilation(
            sql=sql,
            params=tuple(params),
            stand_ins=stand_ins,
            columns=compiler.col_count if compiler.has_extra_select else None,
            alias=queryset.db,
            converters=tuple(
                (index, (tuple(functions), expression))
                for index, (functions, expression) in converters.items()
            ),
        )

    def _slotted(self, first: _Compilation, second: _Compilation) -> _Compiled:
        """The SQL and its parameters, each a slot or a constant: the two compilations must
        differ in the slots' places alone."""
        if first.sql != second.sql or len(first.params) != len(second.params):
            raise CompileError("the query's SQL changes with the values in its slots")
        parameters: list[tuple[str | None, Any]] = []
        found: set[str] = set()
        for param, other in zip(first.params, second.params, strict=True):
            slot = _slot_of(param, first.stand_ins)
            if slot is None:
                if param != other or _slot_of(other, second.stand_ins) is not None:
                    raise CompileError(f"a constant of the query changed: {param!r}, {other!r}")
                parameters.append((None, param))
                continue
            if _slot_of(other, second.stand_ins) != slot:
                raise CompileError(f"the slot {slot} moved between two compilations")
            found.add(slot)
            given = type(param)
            parameters.append((slot, None if given is type(first.stand_ins[slot]) else given))
        missing = set(self.slots) - found
        if missing:
            raise CompileError(f"slots {sorted(missing)} are not parameters of the SQL")
        return _Compiled(first.sql, tuple(parameters), first.columns, first.alias, first.converters)


M = TypeVar("M", bound=Model)


class KeptInstance(Generic[M]):
    """A model's instance by key as its default manager's get(pk=...) reads it (every column,
    Django's converters, a model made from the row as the ORM makes it), from a query kept
    compiled: read on every request (the signed-in user, the incident of a canvass page), the
    ORM's get() built and compiled its query each time for more CPU than the database spends.
    `model` is called once the apps are ready (get_user_model, say)."""

    def __init__(self, model: Callable[[], type[M]]) -> None:
        self.model = model
        self._columns: list[str] | None = None
        self.query = CompiledQuery(
            lambda pk: self.model()._default_manager.filter(pk=pk).values_list(*self.columns()),
            pk=int,
        )

    def columns(self) -> list[str]:
        if self._columns is None:
            self._columns = [field.attname for field in self.model()._meta.concrete_fields]
        return self._columns

    def get(self, pk: Any) -> M | None:
        """The instance of key `pk` (an integer, or text of one), or None."""
        if type(pk) is not int:
            try:
                pk = int(pk)
            except (TypeError, ValueError):
                return None
        rows = self.query.rows(pk=pk)
        if not rows:
            return None
        model = self.model()
        return model.from_db(router.db_for_read(model), self.columns(), rows[0])


# The range of each integer type Django gives a value compared with an integer column.
INTEGER_RANGES = {
    numeric.Int2: (-(2**15), 2**15 - 1),
    numeric.Int4: (-(2**31), 2**31 - 1),
    numeric.Int8: (-(2**63), 2**63 - 1),
}


def _fits(held: Any, value: Any) -> bool:
    lowest, highest = INTEGER_RANGES.get(held, (None, None))
    return lowest is None or lowest <= value <= highest


def _parameter(slot: str | None, held: Any, values: dict[str, Any]) -> Any:
    if slot is None:
        return held
    return values[slot] if held is None else held(values[slot])


def _converted(row: tuple[Any, ...], connection: Any, converters: Converters) -> tuple[Any, ...]:
    values = list(row)
    for index, (functions, expression) in converters:
        value = values[index]
        for function in functions:
            value = function(value, expression, connection)
        values[index] = value
    return tuple(values)


def _slot_of(param: Any, stand_ins: dict[str, Any]) -> str | None:
    """Which slot's stand-in this parameter is, if any: the same value, of the stand-in's type
    or a subclass of it (not a boolean for an integer)."""
    for name, stand_in in stand_ins.items():
        if isinstance(param, type(stand_in)) and type(param) is not bool and param == stand_in:
            return name
    return None
