"""Model-selection records: each decision with who, when, why and the evidence it rested on."""

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from governance.models import TransitionRequest
from registry_ui import access
from registry_ui.evidence_compare import compare

PAGE_SIZE = 25
SELECTION_READERS = (access.EXECUTIVE, access.GOVERNANCE_OFFICER)


@access.role_required(*SELECTION_READERS)
def selection_list(request: HttpRequest) -> HttpResponse:
    records = (
        TransitionRequest.objects.filter(decisions__isnull=False)
        .distinct()
        .select_related("registered_model", "model_version", "requested_by")
        .prefetch_related("decisions")
        .order_by("-created_at", "-pk")
    )
    page = Paginator(records, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "registry_ui/selection_list.html", {"page": page})


@access.role_required(*SELECTION_READERS)
def selection_record(request: HttpRequest, pk: int) -> HttpResponse:
    record = get_object_or_404(
        TransitionRequest.objects.filter(decisions__isnull=False)
        .distinct()
        .select_related("registered_model__source", "model_version__training_run", "requested_by"),
        pk=pk,
    )
    context = {
        "record": record,
        "comparison": compare(record),
        "decisions": list(record.decisions.order_by("signed_at")),
    }
    return render(request, "registry_ui/selection_record.html", context)
