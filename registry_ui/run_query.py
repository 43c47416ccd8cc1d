"""Turn the runs table's query string into ORM filters, an ordering and columns.

Filters use a small MLflow-like language, for example
``metrics.accuracy > 0.9 and params.optimizer = 'adam' and tags.team != "risk"``.
It is parsed into ORM expressions: user text only ever reaches the database as
bound parameters, never as SQL.
"""

import math
import re
from dataclasses import dataclass
from typing import Any, Literal

from django.db import connections
from django.db.models import (
    Exists,
    F,
    FilteredRelation,
    Func,
    OrderBy,
    OuterRef,
    Q,
    QuerySet,
    TextField,
    Value,
)
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast

from governance.models import Run, RunMetric

MAX_FILTER_LENGTH = 2000
MAX_CLAUSES = 12
MAX_KEY_LENGTH = 250

Kind = Literal["metrics", "params", "tags", "attributes"]
KIND_ALIASES: dict[str, Kind] = {
    "metric": "metrics",
    "metrics": "metrics",
    "param": "params",
    "params": "params",
    "parameter": "params",
    "parameters": "params",
    "tag": "tags",
    "tags": "tags",
    "attribute": "attributes",
    "attributes": "attributes",
    "attr": "attributes",
}
# Attribute names accepted in filters and sorts, and the Run field behind each.
ATTRIBUTES: dict[str, str] = {
    "run_name": "name",
    "name": "name",
    "status": "status",
    "user": "user_id",
    "user_id": "user_id",
    "start_time": "start_time",
    "end_time": "end_time",
    "run_id": "run_id",
}
TEXT_OPERATORS = frozenset({"=", "!=", "LIKE", "ILIKE"})
NUMBER_OPERATORS = frozenset({"=", "!=", ">", ">=", "<", "<="})
_LOOKUPS = {"=": "exact", ">": "gt", ">=": "gte", "<": "lt", "<=": "lte"}

_CLAUSE = re.compile(
    r"""
    \s*(?P<kind>[A-Za-z_]+)\.
    (?:`(?P<bq>[^`]+)`|"(?P<dq>[^"]+)"|(?P<bare>[A-Za-z0-9_.\-/:]+))
    \s*(?P<op>!=|>=|<=|=|>|<|(?i:ilike|like)(?=[\s'"]))\s*
    (?:'(?P<sq_value>[^']*)'|"(?P<dq_value>[^"]*)"|(?P<number>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?))
    \s*(?:(?P<and>(?i:and))(?=\s)|$)
    """,
    re.VERBOSE,
)


class QueryError(ValueError):
    """The query string cannot be understood; the message says why, for the user."""


@dataclass(frozen=True)
class Clause:
    kind: Kind
    key: str
    op: str
    value: str | float


@dataclass(frozen=True)
class Column:
    """A chosen column: ``metrics.<key>``, ``params.<key>`` or an attribute."""

    kind: Kind
    key: str

    @property
    def token(self) -> str:
        return f"{self.kind}.{self.key}"


@dataclass(frozen=True)
class SortKey:
    column: Column
    descending: bool

    @property
    def token(self) -> str:
        return ("-" if self.descending else "") + self.column.token


def parse_filter(text: str) -> list[Clause]:
    """Parse a filter expression into clauses joined by AND."""
    text = text.strip()
    if not text:
        return []
    if len(text) > MAX_FILTER_LENGTH:
        raise QueryError(f"The filter is longer than {MAX_FILTER_LENGTH} characters.")

    clauses: list[Clause] = []
    position = 0
    while position < len(text):
        match = _CLAUSE.match(text, position)
        if match is None:
            snippet = text[position : position + 40]
            raise QueryError(
                f"Cannot read the filter at “{snippet}”. Write clauses such as "
                "metrics.accuracy > 0.9 or params.optimizer = 'adam', joined by and."
            )
        clauses.append(_clause(match))
        position = match.end()
        if match.group("and") is None and position < len(text):
            raise QueryError("Join filter clauses with and.")
        if match.group("and") is not None and position >= len(text):
            raise QueryError("The filter ends with and; add a clause after it.")
        if len(clauses) > MAX_CLAUSES:
            raise QueryError(f"A filter has at most {MAX_CLAUSES} clauses.")
    return clauses


def _clause(match: re.Match[str]) -> Clause:
    kind_name = match.group("kind").lower()
    kind = KIND_ALIASES.get(kind_name)
    if kind is None:
        raise QueryError(
            f"Unknown field group “{kind_name}”; use metrics, params, tags or attributes."
        )
    key = match.group("bq") or match.group("dq") or match.group("bare") or ""
    op = match.group("op").upper()
    number = match.group("number")
    text_value = match.group("sq_value")
    if text_value is None:
        text_value = match.group("dq_value")

    if kind == "metrics":
        if number is None:
            raise QueryError(f"metrics.{key} is compared with a number, not text.")
        if op not in NUMBER_OPERATORS:
            raise QueryError(f"metrics.{key} supports {', '.join(sorted(NUMBER_OPERATORS))}.")
        value = float(number)
        if not math.isfinite(value):
            raise QueryError(f"metrics.{key} is compared with a finite number.")
        return Clause(kind, key, op, value)

    if kind == "attributes" and key not in ATTRIBUTES:
        known = ", ".join(sorted(ATTRIBUTES))
        raise QueryError(f"Unknown attribute “{key}”; known attributes are {known}.")
    if op not in TEXT_OPERATORS:
        raise QueryError(f"{kind}.{key} is text; compare it with =, !=, LIKE or ILIKE.")
    value_text = text_value if text_value is not None else number
    return Clause(kind, key, op, value_text or "")


def _text_condition(alias: str, op: str, value: str) -> Q:
    if op in {"=", "!="}:
        condition = Q(**{alias: value})
        return ~condition if op == "!=" else condition
    # LIKE supports % at either end only, which covers contains/starts/ends-with.
    core = value.strip("%")
    if "%" in core:
        raise QueryError("LIKE patterns may use % only at the start or the end.")
    starts, ends = value.startswith("%"), value.endswith("%")
    insensitive = "i" if op == "ILIKE" else ""
    if starts and ends:
        lookup = f"{insensitive}contains"
    elif ends:
        lookup = f"{insensitive}startswith"
    elif starts:
        lookup = f"{insensitive}endswith"
    else:
        lookup = "iexact" if insensitive else "exact"
    return Q(**{f"{alias}__{lookup}": core})


def _json_text(key: str, field: str) -> Cast:
    # The cast makes comparisons plain text on every backend; without it SQLite's
    # JSON lookups would parse the user's value as JSON.
    return Cast(KeyTextTransform(key, field), output_field=TextField())


def apply_filters(runs: QuerySet[Run], clauses: list[Clause]) -> QuerySet[Run]:
    """Narrow ``runs`` by every clause."""
    for index, clause in enumerate(clauses):
        if clause.kind == "metrics":
            assert isinstance(clause.value, float)
            matching = RunMetric.objects.filter(run=OuterRef("pk"), key=clause.key)
            if clause.op == "!=":
                matching = matching.filter(value__isnull=False).exclude(value=clause.value)
            else:
                matching = matching.filter(**{f"value__{_LOOKUPS[clause.op]}": clause.value})
            runs = runs.filter(Exists(matching))
            continue

        assert isinstance(clause.value, str)
        if clause.kind == "attributes":
            alias = ATTRIBUTES[clause.key]
        else:
            alias = f"filter_{index}"
            runs = runs.alias(**{alias: _json_text(clause.key, clause.kind)})
        runs = runs.filter(_text_condition(alias, clause.op, clause.value))
    return runs


def parse_column(token: str) -> Column:
    """Read ``metrics.<key>``, ``params.<key>`` or an attribute name."""
    if token in ATTRIBUTES:
        return Column("attributes", token)
    kind_name, dot, key = token.partition(".")
    kind = KIND_ALIASES.get(kind_name.lower())
    if not dot or kind not in {"metrics", "params", "tags"} or not key:
        raise QueryError(
            f"Unknown column “{token[:80]}”; use metrics.<key>, params.<key> or tags.<key>."
        )
    if len(key) > MAX_KEY_LENGTH:
        raise QueryError(f"Column keys are at most {MAX_KEY_LENGTH} characters.")
    assert kind is not None
    return Column(kind, key)


def parse_sort(token: str) -> SortKey:
    """Read a sort token: a column, with a leading ``-`` for descending order."""
    descending = token.startswith("-")
    column = parse_column(token.removeprefix("-"))
    if column.kind == "attributes" and column.key == "run_id":
        raise QueryError("Sort by run id is not offered; sort by start time or name.")
    return SortKey(column, descending)


@dataclass(frozen=True)
class ColumnKeys:
    """The metric, param and tag keys a set of runs logged, each list sorted."""

    metrics: list[str]
    params: list[str]
    tags: list[str]


# MLflow's own bookkeeping tags (source, user, git commit, logged-model history) are
# on the run detail page; as columns they would bury the tags people set themselves.
SYSTEM_TAG_PREFIX = "mlflow."


def _json_keys(field: str) -> Func:
    # A document that is not an object (JSON null, say) adds no key.
    return Func(
        F(field),
        function="jsonb_object_keys",
        template=(
            "%(function)s(CASE WHEN jsonb_typeof(%(expressions)s) = 'object' "
            "THEN %(expressions)s END)"
        ),
        output_field=TextField(),
    )


def column_keys(runs: QuerySet[Run]) -> ColumnKeys:
    """Return the metric, param and tag keys of ``runs``, without MLflow's system tags."""
    metric_keys = RunMetric.objects.filter(run__in=runs.order_by().values("pk")).order_by()
    found: dict[str, set[str]] = {"metrics": set(), "params": set(), "tags": set()}
    if connections[runs.db].vendor != "postgresql":
        for params, tags in runs.values_list("params", "tags"):
            for kind, document in (("params", params), ("tags", tags)):
                if isinstance(document, dict):
                    found[kind].update(document)
        found["metrics"].update(metric_keys.values_list("key", flat=True).distinct())
    else:
        # PostgreSQL lists the JSON keys itself, which spares decoding every document
        # in Python, and answers all three lists in one round trip.
        plain = runs.order_by()
        params = plain.annotate(kind=Value("params"), json_key=_json_keys("params"))
        tags = plain.annotate(kind=Value("tags"), json_key=_json_keys("tags"))
        rows = (
            metric_keys.annotate(kind=Value("metrics"))
            .values_list("kind", "key")
            .union(
                params.values_list("kind", "json_key"),
                tags.values_list("kind", "json_key"),
            )
        )
        for kind, key in rows:
            found[kind].add(key)
    return ColumnKeys(
        metrics=sorted(found["metrics"]),
        params=sorted(found["params"]),
        tags=sorted(key for key in found["tags"] if not key.startswith(SYSTEM_TAG_PREFIX)),
    )


def metric_sorted_runs(
    runs: QuerySet[Run], key: str, descending: bool, offset: int, limit: int
) -> list[Run]:
    """Return one page of ``runs`` ordered by metric ``key``, as :func:`apply_sort` would.

    Runs with a value come first, read in value order from the (key, value) index,
    so the first pages of a 100,000-run experiment cost a few index probes instead
    of a join and sort over every run. Runs without a value (missing or NaN) follow,
    by id.
    """
    # One metric row per run and key (a unique constraint), so the join adds no
    # duplicate; ordering by the joined value reuses the join of the filter.
    valued = runs.filter(metrics__key=key, metrics__value__isnull=False)
    value = F("metrics__value")
    order = (value.desc(), "-pk") if descending else (value.asc(), "pk")
    page = list(valued.order_by(*order)[offset : offset + limit])
    if len(page) == limit:
        return page

    # Past the valued runs: find where this page starts among the rest.
    valued_total = offset + len(page) if page or offset == 0 else valued.count()
    start = max(0, offset - valued_total)
    with_value = RunMetric.objects.filter(key=key, value__isnull=False)
    rest = runs.exclude(pk__in=with_value.values("run_id")).order_by("-pk" if descending else "pk")
    return page + list(rest[start : start + limit - len(page)])


def apply_sort(runs: QuerySet[Run], sort: SortKey) -> QuerySet[Run]:
    """Order ``runs`` by ``sort``; rows without a value come last either way."""
    column = sort.column
    expression: Any
    if column.kind == "metrics":
        # One LEFT JOIN on the metric of that key, so the database sorts and limits
        # the page in a single query instead of one lookup per run.
        runs = runs.annotate(
            sort_metric=FilteredRelation("metrics", condition=Q(metrics__key=column.key))
        )
        expression = F("sort_metric__value")
    elif column.kind == "attributes":
        expression = F(ATTRIBUTES[column.key])
    else:
        runs = runs.alias(sort_value=_json_text(column.key, column.kind))
        expression = F("sort_value")
    primary: OrderBy = (
        expression.desc(nulls_last=True) if sort.descending else expression.asc(nulls_last=True)
    )
    return runs.order_by(primary, "-pk" if sort.descending else "pk")
