"""Several SELECTs of whole rows run as one statement (issue 19: the ticket page within 6).

A page's small reads (the SLA clocks, the follow marker, each plugin's slot rows) each cost a
statement when run one by one. ``run_together`` runs any number of ``select(Model)…`` as one
``SELECT (…json array…) AS q0, (…) AS q1, …``: each query becomes a scalar subquery that
aggregates its rows into a JSON array (``json_group_array`` on SQLite, ``json_agg`` on
PostgreSQL), and each row comes back as an instance of ``Model`` in the session, as if loaded
by a query: without SQL of its own (``make_transient_to_detached`` + ``Session.add``; an
instance already in the identity map is returned as it is). Many-to-one relationships to rows
in the identity map load without SQL too, so select the people a template shows in the same
batch (``select(User).where(User.id.in_(…))``).

Order: rows come back in the subquery's order on both engines in practice; sort in Python
if the order matters.
"""
from __future__ import annotations

import functools
import json
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, Float, Numeric, Time, literal_column, select
from sqlalchemy.orm import Mapper, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql import Select
from sqlalchemy.types import TypeDecorator, TypeEngine

from helpdesk.extensions import db


def entity_of(query: Select) -> Any:
    """The mapped class of a ``select(Model)``; ValueError for anything else."""
    described = query.column_descriptions
    if len(described) != 1 or described[0].get("entity") is None or described[0]["type"] is not described[0]["entity"]:
        raise ValueError("page queries select one mapped class: select(Model).where(...)")
    return described[0]["entity"]


def _columns(mapper: Mapper) -> list[tuple[str, Any]]:
    """(attribute key, table column) of the mapper's plain columns."""
    out = []
    for prop in mapper.column_attrs:
        column = prop.columns[0]
        if getattr(column, "table", None) is not None and column.table is mapper.local_table:
            out.append((prop.key, column))
    return out


def aggregate(query: Select, dialect: str) -> Any:
    """``query``'s rows as one JSON array (a scalar subquery).

    A query without LIMIT/OFFSET aggregates its own table's columns in place (no derived
    table: building one costs more Python than the rest of the batch); with a LIMIT the
    rows are picked by primary key in ``IN (SELECT id … LIMIT n)``, still aggregated in place.
    """
    mapper = entity_of(query).__mapper__
    table = mapper.local_table
    array: Any = literal_column(_array_sql(mapper, dialect))  # SQL text made once per table and engine
    limited = query._limit_clause is not None or query._offset_clause is not None
    if not limited:  # the query's own FROM and WHERE, its columns swapped for the aggregate
        return (query.with_only_columns(array, maintain_column_froms=False)
                .select_from(table).order_by(None).scalar_subquery())
    # With a LIMIT the rows are picked by primary key in an uncorrelated IN (…LIMIT n) and
    # aggregated in place: no derived table, whose column proxies SQLAlchemy builds per request.
    primary_key = list(mapper.primary_key)
    if len(primary_key) != 1:
        raise ValueError("a page query with a LIMIT needs a one-column primary key")
    picked = query.with_only_columns(primary_key[0], maintain_column_froms=True).correlate(None)
    return select(array).select_from(table).where(primary_key[0].in_(picked)).scalar_subquery()


@functools.cache
def _array_sql(mapper: Mapper, dialect: str) -> str:
    """``json_group_array(json_object('id', table.id, …))`` (or PostgreSQL's) for a whole table."""
    table = mapper.local_table.name  # type: ignore[attr-defined]  # a Table
    parts = []
    for _key, column in _columns(mapper):
        value = f'{table}."{column.name}"'
        if dialect == "sqlite" and isinstance(_base_type(column.type), JSON):
            value = f"json({value})"
        parts.append(f"'{column.name}', {value}")
    if dialect == "postgresql":
        return f"coalesce(json_agg(json_build_object({', '.join(parts)})), '[]'::json)"
    return f"json_group_array(json_object({', '.join(parts)}))"


def _base_type(type_: TypeEngine) -> TypeEngine:
    return type_.impl if isinstance(type_, TypeDecorator) else type_  # type: ignore[return-value]


def _convert(value: Any, type_: TypeEngine, dialect: Any) -> Any:
    base = _base_type(type_)
    if value is not None:
        if isinstance(base, DateTime) and isinstance(value, str):
            value = datetime.fromisoformat(value)
        elif isinstance(base, Date) and isinstance(value, str):
            value = date.fromisoformat(value[:10])
        elif isinstance(base, Time) and isinstance(value, str):
            value = time.fromisoformat(value)
        elif isinstance(base, Boolean):
            value = bool(value)
        elif isinstance(base, Numeric) and not isinstance(base, Float):
            value = Decimal(str(value)) if getattr(base, "asdecimal", False) else value
    if isinstance(type_, TypeDecorator):
        value = type_.process_result_value(value, dialect)
    return value


def hydrate(model: Any, rows: list[dict[str, Any]]) -> list[Any]:
    """Instances of ``model`` in the session for ``rows`` (column name → JSON value), no SQL."""
    session = db.session()
    mapper = model.__mapper__
    columns = _columns(mapper)
    dialect = session.get_bind().dialect
    out = []
    for row in rows:
        values = {key: _convert(row.get(column.name), column.type, dialect) for key, column in columns}
        identity = mapper.identity_key_from_primary_key([values[mapper.get_property_by_column(c).key]
                                                         for c in mapper.primary_key])
        existing = session.identity_map.get(identity)
        if existing is not None:
            out.append(existing)
            continue
        instance = mapper.class_manager.new_instance()
        for key, value in values.items():
            set_committed_value(instance, key, value)
        make_transient_to_detached(instance)
        session.add(instance)
        out.append(instance)
    return out


def run_together(queries: dict[Any, Select], scalars: dict[Any, Select] | None = None) -> dict[Any, Any]:
    """Run every query (``select(Model)…``) and every scalar (a SELECT of one value) as ONE statement.

    Returns key → list of instances (queries) or the value (scalars). Raises what the
    statement raises (the caller decides how to find the culprit).
    """
    scalars = scalars or {}
    if not queries and not scalars:
        return {}
    dialect = db.session().get_bind().dialect.name
    keys = list(queries) + list(scalars)
    columns = [aggregate(q, dialect).label(f"q{i}") for i, q in enumerate(queries.values())]
    columns += [q.scalar_subquery().label(f"s{i}") for i, q in enumerate(scalars.values())]
    row = db.session.execute(select(*columns)).one()
    out: dict[Any, Any] = {}
    for i, key in enumerate(keys):
        value = row[i]
        if key in queries:
            data = json.loads(value) if isinstance(value, str | bytes) else (value or [])
            out[key] = hydrate(entity_of(queries[key]), data)
        else:
            out[key] = value
    return out
