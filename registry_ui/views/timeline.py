"""The chain of custody of a model or one version: every ledger entry, and who held what when."""

from typing import Any

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from governance import permissions, point_in_time
from governance.models import LedgerEntry, ModelVersion, RegisteredModel
from registry_ui import access
from registry_ui.ledger_text import action_words, entry_row
from registry_ui.workflow_forms import TimelineFilterForm

PAGE_SIZE = 50


def _entries_of(model: RegisteredModel) -> QuerySet[LedgerEntry]:
    return LedgerEntry.objects.filter(source_name=model.source.name, model_name=model.name)


def _timeline(
    request: HttpRequest,
    model: RegisteredModel,
    version: ModelVersion | None,
    entries: QuerySet[LedgerEntry],
) -> HttpResponse:
    actions = sorted(set(entries.order_by().values_list("action", flat=True).distinct()))
    form = TimelineFilterForm(
        [(action, action_words(action)) for action in actions], request.GET or None
    )
    context: dict[str, Any] = {"model": model, "version": version, "form": form}
    if request.GET and not form.is_valid():
        return render(request, "registry_ui/timeline.html", context, status=400)

    data = form.cleaned_data if form.is_bound else {}
    since, until = form.bounds() if form.is_bound else (None, None)
    if data.get("action"):
        entries = entries.filter(action=data["action"])
    if since:
        entries = entries.filter(recorded_at__gte=since)
    if until:
        entries = entries.filter(recorded_at__lt=until)
    page = Paginator(entries.select_related("corrects").order_by("seq"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    moment = data.get("as_of")
    query = request.GET.copy()
    query.pop("page", None)

    context.update(
        {
            "page": page,
            "rows": [entry_row(entry) for entry in page.object_list],
            "as_of": moment,
            # Replaying the model's history costs a read of its whole ledger, so the
            # holders are worked out only for a moment someone asked about.
            "holdings": point_in_time.holders_at(model.source.name, model.name, moment)
            if moment
            else None,
            "query": query.urlencode(),
            "can_correct": permissions.can_record_correction(request.user).allowed,
        }
    )
    return render(request, "registry_ui/timeline.html", context)


@access.role_required(*access.READERS)
def version_timeline(request: HttpRequest, pk: int) -> HttpResponse:
    version = get_object_or_404(
        ModelVersion.objects.select_related("registered_model__source"), pk=pk
    )
    model = version.registered_model
    return _timeline(request, model, version, _entries_of(model).filter(version=version.version))


@access.role_required(*access.READERS)
def model_timeline(request: HttpRequest, pk: int) -> HttpResponse:
    model = get_object_or_404(RegisteredModel.objects.select_related("source"), pk=pk)
    return _timeline(request, model, None, _entries_of(model))
