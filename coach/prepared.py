"""Queries whose SQL is built once: the hot reads of every signed-in request.

Building SQL is peewee's largest cost on a busy path: in a check-in (the page and the API post)
about 40 % of the web worker's CPU went to writing the same statements again, most of it naming
every selected column of a row (``bench/checkin_profile.py``). A :class:`Prepared` query is built
once per database with placeholder arguments; after that a call only converts its arguments
(``field.db_value``, as peewee would) and runs the stored statement, and peewee's own cursor
wrapper turns the rows into model instances exactly as the built query would.

A placeholder goes through peewee untouched (text fields keep text as it is, and peewee hands on a
value that other fields can't convert), so the statement names where each argument lands; building one whose argument a field
*did* convert fails at once (tests build every prepared query). ``None`` changes the SQL itself
(``IS NULL``): such a call is built the ordinary way. Lists are refused: ``IN (…)`` has as many
placeholders as values, so it has no one statement.
"""
from __future__ import annotations

import threading
from collections.abc import Callable

from peewee import Field, Query

from .db import db


class _Slot(str):
    """The placeholder for one argument while the statement is built: text, so text fields keep it
    as it is, and not a number, a UUID or a date, so those fields hand it on unconverted too."""

    def __new__(cls, index: int) -> _Slot:
        slot = super().__new__(cls, f"\x00prepared argument {index}")
        slot.index = index
        return slot


class Prepared:
    """``build(*args)`` → a peewee query; ``fields[i]`` converts argument ``i`` (``db_value``).

    ``rows(*args)`` runs a select and returns what iterating the built query would (model instances with
    their joined rows, or tuples/dicts when the query asks for them); ``first(*args)`` the first or
    None; ``rowcount(*args)`` runs an update or delete. The statement is kept per database (SQLite and PostgreSQL write it differently).
    """

    def __init__(self, build: Callable[..., Query], *fields: Field) -> None:
        self.build, self.fields = build, fields
        self._built: dict[int, tuple] = {}
        self._shapes: dict[int, dict] = {}  # per built query: its cursor wrapper's column mapping
        self._lock = threading.Lock()

    def _statement(self, database) -> tuple:
        found = self._built.get(id(database))
        if found is not None and found[0] is database:
            return found
        query = self.build(*(_Slot(i) for i in range(len(self.fields))))
        sql, params = database.get_sql_context().sql(query).query()
        positions = tuple((at, value.index) for at, value in enumerate(params) if isinstance(value, _Slot))
        if sorted({index for _at, index in positions}) != list(range(len(self.fields))):
            raise TypeError(f"prepared query: an argument was converted or dropped while building it: {sql}")
        found = (database, query, sql, tuple(params), positions)
        with self._lock:
            self._built[id(database)] = found
        return found

    def _run(self, args: tuple):
        """``(query, cursor)`` of one run, or ``(built query, None)`` when a None changes the SQL."""
        if any(isinstance(arg, (list, tuple, set, frozenset)) for arg in args):
            raise TypeError("a prepared query takes single values (build an IN (…) query the ordinary way)")
        if any(arg is None for arg in args):
            return self.build(*args), None
        database = db.obj
        _database, query, sql, params, positions = self._statement(database)
        values = list(params)
        for at, index in positions:
            values[at] = self.fields[index].db_value(args[index])
        return query, database.execute_sql(sql, values)

    def execute(self, *args):
        """The cursor wrapper of one select (what ``query.execute()`` returns)."""
        query, cursor = self._run(args)
        if cursor is None:
            return query.execute()
        wrapper = query._get_cursor_wrapper(cursor)
        shape = self._shapes.get(id(query))
        if shape is None:
            # Which column becomes which field of which model, and its converter: the same for every
            # run of one statement, so it is worked out once (half of reading a wide row otherwise).
            fresh = set(vars(wrapper))
            wrapper.initialize()
            shape = {name: value for name, value in vars(wrapper).items() if name not in fresh}
            self._shapes[id(query)] = shape
        else:
            vars(wrapper).update(shape)
        wrapper.initialized = True
        return wrapper

    def rowcount(self, *args) -> int:
        """Rows changed by one run of an ``UPDATE`` or ``DELETE``."""
        query, cursor = self._run(args)
        return query.execute() if cursor is None else db.obj.rows_affected(cursor)

    def rows(self, *args) -> list:
        return list(self.execute(*args))

    def first(self, *args):
        """The first row, or None (build the query with ``.limit(1)`` when one is all you need)."""
        for row in self.execute(*args):
            return row
        return None
