"""Ask for a stage or alias change of a model version, list my requests, cancel one."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from governance import permissions, workflow
from governance.models import ModelVersion, TransitionRequest
from registry_ui import access
from registry_ui.workflow_forms import CancelRequestForm, RequestTransitionForm

MY_REQUESTS_LIMIT = 200


@access.role_required(access.DATA_SCIENTIST)
def request_transition(request: HttpRequest, pk: int) -> HttpResponse:
    version = get_object_or_404(
        ModelVersion.objects.select_related("registered_model__source", "training_run"), pk=pk
    )
    verdict = permissions.can_request(request.user, version)
    form = RequestTransitionForm(request.POST or None)
    status = 200

    if request.method == "POST" and form.is_valid():
        kind, target = form.target_parts()
        try:
            created = workflow.request_transition(
                request.user,  # type: ignore[arg-type]
                version,
                kind,
                target,
                form.cleaned_data["rationale"],
            )
        except (workflow.InvalidRequest, workflow.Conflict) as exc:
            form.add_error(None, str(exc))
            status = 409 if isinstance(exc, workflow.Conflict) else 400
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
            status = 403
        else:
            messages.success(request, f"Request {created.pk} was sent to the governance officers.")
            return redirect("registry_ui:request_detail", created.pk)
    elif request.method == "POST":
        status = 400

    context = {
        "version": version,
        "model": version.registered_model,
        "form": form,
        "refusal": "" if verdict else verdict.reason,
    }
    return render(request, "registry_ui/request_transition.html", context, status=status)


@access.role_required(access.DATA_SCIENTIST)
def my_requests(request: HttpRequest) -> HttpResponse:
    requests = (
        TransitionRequest.objects.filter(requested_by_id=request.user.pk)
        .select_related("registered_model", "model_version", "outbox")
        .order_by("-created_at")[:MY_REQUESTS_LIMIT]
    )
    return render(
        request,
        "registry_ui/my_requests.html",
        {"requests": list(requests), "cancel_form": CancelRequestForm()},
    )


@require_POST
@access.role_required(*access.READERS)
def cancel_request(request: HttpRequest, pk: int) -> HttpResponse:
    transition = get_object_or_404(TransitionRequest, pk=pk)
    form = CancelRequestForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give a reason to cancel the request; nothing was changed.")
        return redirect(reverse("registry_ui:request_detail", args=[transition.pk]))

    try:
        workflow.cancel_request(
            request.user,  # type: ignore[arg-type]
            transition.pk,
            form.cleaned_data["reason"],
        )
    except PermissionDenied as exc:
        return render(
            request,
            "registry_ui/refused.html",
            {"reason": str(exc), "back": reverse("registry_ui:request_detail", args=[pk])},
            status=403,
        )
    messages.success(request, f"Request {transition.pk} was cancelled.")
    return redirect("registry_ui:my_requests")
