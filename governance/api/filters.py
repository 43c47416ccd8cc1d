"""Filters of the read API (django-filter) and run ordering by any metric or param."""

from typing import Any

import django_filters
from django.db.models import F, FilteredRelation, Q, QuerySet, TextField
from django.db.models.expressions import OrderBy
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.views import APIView

from governance.models import (
    ApiToken,
    Experiment,
    LedgerEntry,
    MlflowSource,
    ModelVersion,
    RegisteredModel,
    Run,
    RunMetric,
    TransitionRequest,
)

RUN_STATUSES = ["RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED"]
LIFECYCLE_STAGES = ["active", "deleted"]
MAX_KEY_LENGTH = 250
MAX_ORDER_TERMS = 5


def _is_true(value: str) -> bool:
    return value == "true"


def strict_boolean(**kwargs: Any) -> django_filters.TypedChoiceFilter:
    """A boolean query parameter that accepts only ``true`` or ``false`` (else 400)."""
    return django_filters.TypedChoiceFilter(
        choices=[("true", "true"), ("false", "false")], coerce=_is_true, **kwargs
    )


class SourceFilter(django_filters.FilterSet):
    enabled = strict_boolean()

    class Meta:
        model = MlflowSource
        fields = ["name"]


class ExperimentFilter(django_filters.FilterSet):
    source = django_filters.CharFilter(field_name="source__name", help_text="Source name.")
    name = django_filters.CharFilter(help_text="Exact experiment name.")
    name_contains = django_filters.CharFilter(field_name="name", lookup_expr="icontains")
    lifecycle_stage = django_filters.ChoiceFilter(choices=[(s, s) for s in LIFECYCLE_STAGES])

    class Meta:
        model = Experiment
        fields = ["experiment_id"]


class RunFilter(django_filters.FilterSet):
    source = django_filters.CharFilter(field_name="source__name", help_text="Source name.")
    experiment = django_filters.NumberFilter(
        field_name="experiment_id", help_text="Experiment id in this API."
    )
    experiment_id = django_filters.CharFilter(
        field_name="experiment__experiment_id", help_text="Experiment id in MLflow."
    )
    status = django_filters.ChoiceFilter(choices=[(s, s) for s in RUN_STATUSES])
    user = django_filters.CharFilter(field_name="user_id", help_text="MLflow user of the run.")
    tag = django_filters.CharFilter(
        method="filter_tag",
        help_text="`key` (the run has the tag) or `key=value` (it has that value).",
    )
    dataset_digest = django_filters.CharFilter(
        method="filter_dataset_digest", help_text="Digest of a dataset the run used."
    )
    lifecycle_stage = django_filters.ChoiceFilter(choices=[(s, s) for s in LIFECYCLE_STAGES])

    class Meta:
        model = Run
        fields = ["run_id", "parent_run_id"]

    def filter_tag(self, queryset: QuerySet[Run], name: str, value: str) -> QuerySet[Run]:
        key, has_value, expected = value.partition("=")
        if not key or len(key) > MAX_KEY_LENGTH:
            raise ValidationError({"tag": ["Give a tag key, optionally followed by =value."]})
        if not has_value:
            return queryset.filter(tags__has_key=key)
        # The cast keeps SQLite from comparing the value as JSON (it would need quoting).
        value_of = Cast(KeyTextTransform(key, "tags"), output_field=TextField())
        return queryset.alias(_tag=value_of).filter(_tag=expected)

    def filter_dataset_digest(
        self, queryset: QuerySet[Run], name: str, value: str
    ) -> QuerySet[Run]:
        # A subquery, not a join, so a run with two matching inputs appears once.
        matching = Run.objects.filter(dataset_inputs__digest=value).values("pk")
        return queryset.filter(pk__in=matching)


class RegisteredModelFilter(django_filters.FilterSet):
    source = django_filters.CharFilter(field_name="source__name", help_text="Source name.")
    name = django_filters.CharFilter(help_text="Exact model name.")
    name_contains = django_filters.CharFilter(field_name="name", lookup_expr="icontains")
    deleted = strict_boolean(field_name="deleted_observed_at", lookup_expr="isnull", exclude=True)

    class Meta:
        model = RegisteredModel
        fields = ["risk_tier"]


class ModelVersionFilter(django_filters.FilterSet):
    source = django_filters.CharFilter(
        field_name="registered_model__source__name", help_text="Source name."
    )
    model = django_filters.NumberFilter(
        field_name="registered_model_id", help_text="Registered model id in this API."
    )
    model_name = django_filters.CharFilter(field_name="registered_model__name")
    version = django_filters.NumberFilter()

    class Meta:
        model = ModelVersion
        fields = ["stage", "run_id", "status"]


class ApiTokenFilter(django_filters.FilterSet):
    user = django_filters.CharFilter(field_name="user__username", help_text="Owner's username.")
    active = strict_boolean(field_name="revoked_at", lookup_expr="isnull")

    class Meta:
        model = ApiToken
        fields: list[str] = []


RUN_ORDER_FIELDS = {
    "start_time": "start_time",
    "end_time": "end_time",
    "name": "name",
    "status": "status",
    "user": "user_id",
    "run_id": "run_id",
}


def _order_term(term: str, index: int) -> tuple[str, Any]:
    """Return an annotation name and expression for one ``order_by`` term."""
    kind, dot, key = term.partition(".")
    if dot and kind in ("metrics", "params"):
        if not key or len(key) > MAX_KEY_LENGTH:
            raise ValidationError({"order_by": [f"{term!r} needs a key of 1 to 250 characters."]})
        if kind == "metrics":
            # A LEFT JOIN on the metric of that key (unique per run): the database
            # sorts and limits the page in one pass, unlike a subquery per run.
            joined = FilteredRelation("metrics", condition=Q(metrics__key=key))
            return f"_order_{index}__value", joined
        return f"_order_{index}", KeyTextTransform(key, "params")
    if term in RUN_ORDER_FIELDS:
        return RUN_ORDER_FIELDS[term], None
    choices = ", ".join(sorted(RUN_ORDER_FIELDS))
    raise ValidationError(
        {"order_by": [f"Unknown ordering {term!r}; use {choices}, metrics.KEY or params.KEY."]}
    )


def order_runs(queryset: QuerySet[Run], order_by: str) -> QuerySet[Run]:
    """Order runs by comma-separated terms; ``-`` descends; missing values sort last."""
    terms = [t.strip() for t in order_by.split(",")] if order_by else []
    if len(terms) > MAX_ORDER_TERMS:
        raise ValidationError({"order_by": [f"Give at most {MAX_ORDER_TERMS} terms."]})
    ordering: list[OrderBy] = []
    for index, term in enumerate(terms):
        descending = term.startswith("-")
        name, expression = _order_term(term.removeprefix("-"), index)
        if isinstance(expression, FilteredRelation):
            queryset = queryset.annotate(**{name.removesuffix("__value"): expression})
        elif expression is not None:
            queryset = queryset.alias(**{name: expression})
        ordering.append(
            F(name).desc(nulls_last=True) if descending else F(name).asc(nulls_last=True)
        )
    if not ordering:
        ordering.append(F("start_time").desc(nulls_last=True))
    # Ties fall back to the newest row first, so pages are stable.
    ordering.append(F("pk").desc())
    return queryset.order_by(*ordering)


class MetricOrderedRuns:
    """Runs ordered by one metric, a page at a time, read in the (key, value) index order.

    Sorting every run by a joined metric costs a scan of the whole table; reading the
    index in value order costs a few probes per page. Runs with a value come first
    (ties newest first), then runs without one (missing or NaN), newest first, exactly
    as :func:`order_runs` orders them. Django's paginator slices and counts this.
    """

    def __init__(self, runs: QuerySet[Run], key: str, descending: bool) -> None:
        self.runs = runs
        self.key = key
        self.descending = descending

    def count(self) -> int:
        return self.runs.count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, page: slice) -> list[Run]:
        offset = page.start or 0
        ids = self._ids(offset, (page.stop or offset) - offset)
        found = {run.pk: run for run in self.runs.filter(pk__in=ids)}
        return [found[pk] for pk in ids if pk in found]

    def _ids(self, offset: int, limit: int) -> list[int]:
        with_value = RunMetric.objects.filter(key=self.key, value__isnull=False)
        valued = with_value.filter(run__in=self.runs.order_by().values("pk"))
        value = F("value").desc() if self.descending else F("value").asc()
        ids = list(
            valued.order_by(value, F("run_id").desc()).values_list("run_id", flat=True)[
                offset : offset + limit
            ]
        )
        if len(ids) == limit:
            return ids

        # Past the runs with a value: find where this page starts among the others.
        valued_total = offset + len(ids) if ids or offset == 0 else valued.count()
        start = max(0, offset - valued_total)
        rest = (
            self.runs.exclude(pk__in=with_value.values("run_id"))
            .order_by("-pk")
            .values_list("pk", flat=True)[start : start + limit - len(ids)]
        )
        return ids + list(rest)


class RunOrdering:
    """DRF filter backend for ``?order_by=metrics.accuracy,-params.lr,start_time``."""

    param = "order_by"

    def filter_queryset(self, request: Request, queryset: QuerySet[Run], view: APIView) -> Any:
        order_by = request.query_params.get(self.param, "")
        ordered = order_runs(queryset, order_by)
        term = order_by.strip()
        if (
            getattr(view, "action", None) == "list"
            and term.removeprefix("-").startswith("metrics.")
            and "," not in term
        ):
            # One metric alone, the common question: served from the index, page by page.
            key = term.removeprefix("-").removeprefix("metrics.")
            return MetricOrderedRuns(queryset, key, term.startswith("-"))
        return ordered

    def get_schema_operation_parameters(self, view: APIView) -> list[dict[str, Any]]:
        description = (
            "Comma-separated sort keys, each optionally prefixed by - to descend: "
            + ", ".join(sorted(RUN_ORDER_FIELDS))
            + ", metrics.KEY (latest value) or params.KEY (as text). "
            "Runs without the metric or param come last."
        )
        return [
            {
                "name": self.param,
                "in": "query",
                "required": False,
                "description": description,
                "schema": {"type": "string"},
            }
        ]


class TransitionRequestFilter(django_filters.FilterSet):
    model = django_filters.NumberFilter(
        field_name="registered_model_id", help_text="Registered model id in this API."
    )
    model_name = django_filters.CharFilter(field_name="registered_model__name")
    model_version = django_filters.NumberFilter(field_name="model_version_id")
    requested_by = django_filters.CharFilter(
        field_name="requested_by__username", help_text="Requester's username."
    )

    class Meta:
        model = TransitionRequest
        fields = ["status", "target_kind", "target"]


class LedgerEntryFilter(django_filters.FilterSet):
    """Narrow a timeline by action, precision and the server time of recording."""

    since = django_filters.IsoDateTimeFilter(field_name="recorded_at", lookup_expr="gte")
    until = django_filters.IsoDateTimeFilter(field_name="recorded_at", lookup_expr="lt")
    precision = django_filters.ChoiceFilter(choices=LedgerEntry.Precision.choices)

    class Meta:
        model = LedgerEntry
        fields = ["action", "target"]
