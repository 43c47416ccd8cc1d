"""One run in detail, and several runs side by side."""

import html
from collections import defaultdict
from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.safestring import SafeString, mark_safe

from governance.models import LoggedModel, MetricHistory, Run, RunMetric
from registry_ui import access, charts
from registry_ui.formatting import metric_text
from registry_ui.links import pk_url_maker

# A run can log a metric at millions of steps; the chart shows the first points.
HISTORY_POINT_LIMIT = 20_000
MIN_COMPARE = 2
MAX_COMPARE = 50
MAX_AXES = 12
SYSTEM_TAG_PREFIX = "mlflow."
GIT_REPO_TAG = "mlflow.source.git.repoURL"
# A metric's latest (value, is NaN).
Metric = tuple[float | None, bool]


@dataclass(frozen=True)
class KeyValue:
    key: str
    value: str


# One logged point as read for charts: (run pk, key, step, value, is NaN).
HistoryPoint = tuple[int, str, int, float | None, bool]
HISTORY_FIELDS = ("run_id", "key", "step", "value", "is_nan")


def _history_series(histories: list[HistoryPoint], name_of: dict[int, str]) -> list[charts.Series]:
    grouped: dict[tuple[int, str], list[tuple[int, float | None]]] = defaultdict(list)
    for run_pk, key, step, value, is_nan in histories:
        grouped[(run_pk, key)].append((step, None if is_nan else value))
    return [
        charts.Series(name_of[run_pk] or key, points) for (run_pk, key), points in grouped.items()
    ]


@access.role_required(*access.READERS)
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(Run.objects.select_related("experiment", "source"), pk=pk)
    histories: list[HistoryPoint] = list(
        MetricHistory.objects.filter(run=run)
        .order_by("key", "step", "timestamp_ms")
        .values_list(*HISTORY_FIELDS)[: HISTORY_POINT_LIMIT + 1]
    )
    truncated = len(histories) > HISTORY_POINT_LIMIT
    series = _history_series(histories[:HISTORY_POINT_LIMIT], {run.pk: ""})
    tags = sorted((run.tags or {}).items())
    parent = (
        Run.objects.filter(source=run.source, run_id=run.parent_run_id).first()
        if run.parent_run_id
        else None
    )

    context = {
        "run": run,
        "params": [KeyValue(k, str(v)) for k, v in sorted((run.params or {}).items())],
        "metrics": list(run.metrics.order_by("key")),
        "user_tags": [KeyValue(k, str(v)) for k, v in tags if not k.startswith(SYSTEM_TAG_PREFIX)],
        "system_tags": [KeyValue(k, str(v)) for k, v in tags if k.startswith(SYSTEM_TAG_PREFIX)],
        "datasets": list(run.dataset_inputs.order_by("name", "context")),
        "parent": parent,
        "parent_missing": bool(run.parent_run_id) and parent is None,
        "children": list(
            Run.objects.filter(source=run.source, parent_run_id=run.run_id)
            .only("pk", "run_id", "name", "status", "start_time")
            .order_by("start_time")[:200]
        ),
        "logged_models": list(
            LoggedModel.objects.filter(source=run.source, run_id=run.run_id).order_by("name")
        ),
        "model_versions": list(
            run.model_versions.select_related("registered_model").order_by(
                "registered_model__name", "version"
            )
        ),
        "git_repo": str((run.tags or {}).get(GIT_REPO_TAG, "")),
        "history_figure": charts.metric_history_figure("Metric history", series),
        "history_truncated": truncated,
        "history_limit": HISTORY_POINT_LIMIT,
    }
    return render(request, "registry_ui/run_detail.html", context)


@dataclass(frozen=True)
class CompareRow:
    key: str
    kind: str
    values: list[str]
    differs: bool
    cells_html: SafeString


def _selected_pks(request: HttpRequest) -> list[int] | str:
    raw = request.GET.getlist("run")
    try:
        pks = list(dict.fromkeys(int(value) for value in raw))
    except ValueError:
        return "Runs are chosen by their numbers in this dashboard."
    if not MIN_COMPARE <= len(pks) <= MAX_COMPARE:
        return (
            f"Choose between {MIN_COMPARE} and {MAX_COMPARE} runs to compare; you chose {len(pks)}."
        )
    return pks


@dataclass(frozen=True)
class RunLink:
    pk: int
    url: str
    label: str


@access.role_required(*access.READERS)
def run_compare(request: HttpRequest) -> HttpResponse:
    selected = _selected_pks(request)
    if isinstance(selected, str):
        return render(request, "registry_ui/run_compare.html", {"error": selected}, status=400)
    by_pk = Run.objects.only("pk", "run_id", "name", "params").in_bulk(selected)
    missing = [pk for pk in selected if pk not in by_pk]
    if missing:
        error = "No run has the number " + ", ".join(str(pk) for pk in missing) + "."
        return render(request, "registry_ui/run_compare.html", {"error": error}, status=400)
    runs = [by_pk[pk] for pk in selected]

    metrics: dict[tuple[int, str], Metric] = {
        (run_pk, key): (value, is_nan)
        for run_pk, key, value, is_nan in RunMetric.objects.filter(run_id__in=selected).values_list(
            "run_id", "key", "value", "is_nan"
        )
    }
    metric_keys = sorted({key for _, key in metrics})
    param_keys = sorted({key for run in runs for key in (run.params or {})})
    chosen_metric = request.GET.get("metric", "") or (metric_keys[0] if metric_keys else "")
    if chosen_metric and chosen_metric not in metric_keys:
        error = "None of these runs logged a metric of that name."
        return render(request, "registry_ui/run_compare.html", {"error": error}, status=400)

    rows = [
        _row(key, "param", [str((run.params or {}).get(key, "")) for run in runs])
        for key in param_keys
    ]
    rows += [
        _row(key, "metric", [_metric_cell(metrics.get((run.pk, key))) for run in runs])
        for key in metric_keys
    ]
    histories: list[HistoryPoint] = list(
        MetricHistory.objects.filter(run_id__in=selected, key=chosen_metric)
        .order_by("run_id", "step", "timestamp_ms")
        .values_list(*HISTORY_FIELDS)[:HISTORY_POINT_LIMIT]
    )
    names = {run.pk: run.name or run.run_id for run in runs}
    run_url = pk_url_maker("registry_ui:run_detail")

    context = {
        "runs": runs,
        "run_links": [RunLink(run.pk, run_url(run.pk), names[run.pk]) for run in runs],
        "rows": rows,
        "metric_keys": metric_keys,
        "chosen_metric": chosen_metric,
        "parallel_figure": _parallel_figure(runs, param_keys, metric_keys, metrics),
        "history_figure": charts.metric_history_figure(
            f"{chosen_metric} by step", _history_series(histories, names)
        ),
    }
    return render(request, "registry_ui/run_compare.html", context)


def _metric_cell(found: Metric | None) -> str:
    return "" if found is None else metric_text(*found)


def _row(key: str, kind: str, values: list[str]) -> CompareRow:
    # Up to 50 runs a row: the cells are spelled here, escaped as the template
    # would, rather than through a template variable each.
    opening = '<td class="num">' if kind == "metric" else "<td>"
    cells = "".join(opening + html.escape(value) + "</td>" for value in values)
    return CompareRow(
        key,
        kind,
        values,
        differs=len(set(values)) > 1,
        cells_html=mark_safe(cells),  # noqa: S308 - every value is escaped above
    )


def _number_or_text(value: object) -> float | str | None:
    if value is None or value == "":
        return None
    try:
        return float(str(value))
    except ValueError:
        return str(value)


def _parallel_figure(
    runs: list[Run],
    param_keys: list[str],
    metric_keys: list[str],
    metrics: dict[tuple[int, str], Metric],
) -> charts.Figure | None:
    # Parameters that are the same for every run add an axis without information.
    varying = [key for key in param_keys if len({str((r.params or {}).get(key)) for r in runs}) > 1]
    dimensions = [
        charts.Dimension(key, [_number_or_text((r.params or {}).get(key)) for r in runs])
        for key in varying[:MAX_AXES]
    ]
    metric_values = {
        key: [None if (m := metrics.get((r.pk, key))) is None or m[1] else m[0] for r in runs]
        for key in metric_keys[:MAX_AXES]
    }
    dimensions += [charts.Dimension(key, values) for key, values in metric_values.items()]
    return charts.parallel_coordinates_figure("Parameters and metrics", dimensions, metric_values)
