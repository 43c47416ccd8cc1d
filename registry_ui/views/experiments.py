"""Experiments and the runs table of one experiment."""

import html
from dataclasses import dataclass
from datetime import tzinfo

from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import get_current_timezone

from governance.models import Experiment, Run, RunMetric
from registry_ui import access
from registry_ui.formatting import metric_text
from registry_ui.links import pk_url_maker
from registry_ui.run_query import (
    Column,
    ColumnKeys,
    QueryError,
    SortKey,
    apply_filters,
    apply_sort,
    column_keys,
    metric_sorted_runs,
    parse_column,
    parse_filter,
    parse_sort,
)

PAGE_SIZES = (25, 50, 100)
DEFAULT_PAGE_SIZE = 50
MAX_PAGE = 10_000
MAX_COLUMNS = 30
# Column choices come from the most recent runs: listing every key of a 100,000-run
# experiment would cost more than the page itself.
KEY_SAMPLE_RUNS = 200
DEFAULT_KEY_COLUMNS = 6
DEFAULT_SORT = SortKey(Column("attributes", "start_time"), descending=True)
ATTRIBUTE_LABELS = {
    "run_name": "Run",
    "status": "Status",
    "user_id": "User",
    "start_time": "Started",
}
STATUSES = ("RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED")


@dataclass(frozen=True)
class ExperimentRow:
    experiment: Experiment
    run_count: int


@dataclass(frozen=True)
class Cell:
    text: str
    numeric: bool = False


@dataclass(frozen=True)
class RunRow:
    run: Run
    url: str
    label: str
    started: str
    cells: list[Cell]
    html: SafeString


@dataclass(frozen=True)
class HeaderCell:
    column: Column
    label: str
    sort_token: str
    sorted_dir: str


@access.role_required(*access.READERS)
def experiment_list(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:200]
    experiments = Experiment.objects.select_related("source").annotate(
        run_count=Count("runs", filter=Q(runs__deleted_observed_at__isnull=True))
    )
    if query:
        experiments = experiments.filter(name__icontains=query)
    rows = [ExperimentRow(e, e.run_count) for e in experiments.order_by("name", "pk")[:500]]
    return render(request, "registry_ui/experiment_list.html", {"rows": rows, "query": query})


def _sample_keys(experiment: Experiment) -> ColumnKeys:
    recent = (
        Run.objects.filter(experiment=experiment)
        .order_by("-start_time", "-pk")
        .values("pk")[:KEY_SAMPLE_RUNS]
    )
    return column_keys(Run.objects.filter(pk__in=recent))


def _int_choice(raw: str, default: int, lowest: int, highest: int, name: str) -> int:
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError as error:
        raise QueryError(f"{name} must be a whole number.") from error
    if not lowest <= value <= highest:
        raise QueryError(f"{name} must be between {lowest} and {highest}.")
    return value


def _header(column: Column, sort: SortKey) -> HeaderCell:
    current = sort.column == column
    next_token = column.token if current and sort.descending else "-" + column.token
    direction = ("descending" if sort.descending else "ascending") if current else ""
    if column.kind == "attributes":
        label = ATTRIBUTE_LABELS.get(column.key, column.key)
    else:
        # A tag may share its key with a param; the suffix tells the columns apart.
        label = f"{column.key} (tag)" if column.kind == "tags" else column.key
    return HeaderCell(column, label, next_token, direction)


@access.role_required(*access.READERS)
def run_list(request: HttpRequest, experiment_pk: int) -> HttpResponse:
    experiment = get_object_or_404(Experiment.objects.select_related("source"), pk=experiment_pk)
    keys = _sample_keys(experiment)
    metric_keys, param_keys = keys.metrics, keys.params
    filter_text = request.GET.get("filter", "")
    status = request.GET.get("status", "")
    user = request.GET.get("user", "").strip()[:250]
    context: dict[str, object] = {
        "experiment": experiment,
        "metric_keys": metric_keys,
        "param_keys": param_keys,
        "tag_keys": keys.tags,
        "filter_text": filter_text,
        "status": status,
        "user_filter": user,
        "statuses": STATUSES,
        "page_sizes": PAGE_SIZES,
    }

    try:
        clauses = parse_filter(filter_text)
        if status and status not in STATUSES:
            raise QueryError(f"Unknown status; choose one of {', '.join(STATUSES)}.")
        raw_sort = request.GET.get("sort", "")
        sort = parse_sort(raw_sort) if raw_sort else DEFAULT_SORT
        tokens = request.GET.getlist("col")
        if len(tokens) > MAX_COLUMNS:
            raise QueryError(f"Choose at most {MAX_COLUMNS} columns.")
        if tokens:
            columns = [parse_column(token) for token in dict.fromkeys(tokens)]
        else:
            columns = [Column("metrics", k) for k in metric_keys[:DEFAULT_KEY_COLUMNS]]
            columns += [Column("params", k) for k in param_keys[:DEFAULT_KEY_COLUMNS]]
        page = _int_choice(request.GET.get("page", ""), 1, 1, MAX_PAGE, "The page")
        size = _int_choice(request.GET.get("size", ""), DEFAULT_PAGE_SIZE, 1, 100, "Page size")
    except QueryError as error:
        context["error"] = str(error)
        return render(request, "registry_ui/run_list.html", context, status=400)

    runs = Run.objects.filter(experiment=experiment, deleted_observed_at__isnull=True)
    if status:
        runs = runs.filter(status=status)
    if user:
        runs = runs.filter(user_id=user)
    runs = apply_filters(runs, clauses)
    # Fetch one row past the page to know whether a next page exists without a
    # COUNT over the whole experiment.
    offset = (page - 1) * size
    fields = ["pk", "run_id", "name", "status", "user_id", "start_time", "params"]
    if any(c.kind == "tags" for c in columns):
        fields.append("tags")
    if sort.column.kind == "metrics":
        fetched = metric_sorted_runs(
            runs.only(*fields), sort.column.key, sort.descending, offset, size + 1
        )
    else:
        fetched = list(apply_sort(runs, sort).only(*fields)[offset : offset + size + 1])
    has_next = len(fetched) > size
    page_runs = fetched[:size]

    metric_columns = [c.key for c in columns if c.kind == "metrics"]
    values: dict[tuple[int, str], str] = {
        (run_pk, key): metric_text(value, is_nan)
        for run_pk, key, value, is_nan in RunMetric.objects.filter(
            run_id__in=[r.pk for r in page_runs], key__in=metric_columns
        ).values_list("run_id", "key", "value", "is_nan")
    }
    run_url = pk_url_maker("registry_ui:run_detail")
    zone = get_current_timezone()
    rows = [_row(r, run_url(r.pk), [_cell(r, c, values) for c in columns], zone) for r in page_runs]

    chosen = {c.token for c in columns}
    context.update(
        {
            "rows": rows,
            "columns": columns,
            "chosen": chosen,
            "headers": [_header(c, sort) for c in columns],
            "attribute_headers": [
                _header(Column("attributes", key), sort)
                for key in ("run_name", "status", "user_id", "start_time")
            ],
            "sort": sort,
            "page": page,
            "size": size,
            "has_next": has_next,
            "has_previous": page > 1,
            "first_index": offset + 1,
            "last_index": offset + len(rows),
            "query_without_page": _query_without(request, "page"),
            "query_without_sort": _query_without(request, "sort", "page"),
        }
    )
    return render(request, "registry_ui/run_list.html", context)


def _cell(run: Run, column: Column, values: dict[tuple[int, str], str]) -> Cell:
    if column.kind == "metrics":
        return Cell(values.get((run.pk, column.key), ""), numeric=True)
    value = (getattr(run, column.kind) or {}).get(column.key)
    return Cell("" if value is None else str(value))


# One row of the runs table. Every value is escaped before it is placed.
ROW_HTML = (
    '<td><input type="checkbox" name="run" value="{pk}" form="compare-form" id="select-{pk}"'
    ' aria-label="Select run {label} for comparison"></td>\n'
    '      <td><a href="{url}">{label}</a></td>\n'
    "      <td>{status}</td><td>{user}</td><td>{started}</td>\n"
    "      {cells}"
)


def _row(run: Run, url: str, cells: list[Cell], zone: tzinfo) -> RunRow:
    # Through the template engine, a page of 50 rows of about 20 variables each cost
    # more than everything else in the view (some 15 microseconds a variable); the
    # row is spelled here in one string instead, with the escaping the template
    # would apply.
    label = run.name or run.run_id
    started = run.start_time.astimezone(zone).strftime("%Y-%m-%d %H:%M") if run.start_time else ""
    cells_html = "".join(
        ('<td class="num">' if cell.numeric else "<td>") + html.escape(cell.text) + "</td>"
        for cell in cells
    )
    row_html = ROW_HTML.format(
        pk=int(run.pk),
        label=html.escape(label),
        url=html.escape(url),
        status=html.escape(run.status),
        user=html.escape(run.user_id),
        started=started,
        cells=cells_html,
    )
    return RunRow(
        run=run,
        url=url,
        label=label,
        started=started,
        cells=cells,
        html=mark_safe(row_html),  # noqa: S308 - every value is escaped above
    )


def _query_without(request: HttpRequest, *names: str) -> str:
    query = request.GET.copy()
    for name in names:
        query.pop(name, None)
    return query.urlencode()
