"""The officers' inbox and the decision page: frozen evidence, signing, and the apply."""

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from governance import permissions, workflow
from governance.models import ApplyOutbox, TransitionRequest
from registry_ui import access
from registry_ui.evidence_compare import compare
from registry_ui.links import optional_url
from registry_ui.workflow_forms import CancelRequestForm, DecisionForm

INBOX_LIMIT = 200


@access.role_required(access.GOVERNANCE_OFFICER)
def decision_inbox(request: HttpRequest) -> HttpResponse:
    pending = list(
        TransitionRequest.objects.filter(status=TransitionRequest.Status.PENDING)
        .select_related("registered_model", "model_version", "requested_by")
        .prefetch_related("decisions")
        .order_by("created_at")[:INBOX_LIMIT]
    )
    rows = [(item, permissions.can_decide(request.user, item)) for item in pending]
    return render(request, "registry_ui/decision_inbox.html", {"rows": rows})


def _outbox(transition: TransitionRequest) -> ApplyOutbox | None:
    try:
        return transition.outbox
    except ApplyOutbox.DoesNotExist:
        return None


def _page(
    request: HttpRequest,
    transition: TransitionRequest,
    form: DecisionForm | None,
    refusal: str = "",
    status: int = 200,
) -> HttpResponse:
    verdict = permissions.can_decide(request.user, transition)
    is_officer = permissions.has_role(request.user, permissions.GOVERNANCE_OFFICER)
    context: dict[str, Any] = {
        "transition": transition,
        "version": transition.model_version,
        "model": transition.registered_model,
        "comparison": compare(transition),
        "decisions": list(transition.decisions.order_by("signed_at")),
        "outbox": _outbox(transition),
        "form": (form or DecisionForm()) if verdict else None,
        # Officers who may not sign this request are told why, not just shown no form.
        "decide_refusal": verdict.reason if is_officer and not verdict else "",
        "refusal": refusal,
        "may_cancel": bool(permissions.can_cancel(request.user, transition)),
        "cancel_form": CancelRequestForm(),
        "timeline_url": optional_url("registry_ui:version_timeline", transition.model_version.pk),
    }
    return render(request, "registry_ui/request_detail.html", context, status=status)


@access.role_required(*access.READERS)
def request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    transition = get_object_or_404(
        TransitionRequest.objects.select_related(
            "registered_model__source",
            "model_version__training_run",
            "model_version__registered_model__source",
            "requested_by",
        ),
        pk=pk,
    )
    if request.method != "POST":
        return _page(request, transition, None)

    if not permissions.has_role(request.user, permissions.GOVERNANCE_OFFICER):
        # Recorded on the ledger as a refused action, then answered with 403.
        permissions.refuse(
            request.user,
            "decision",
            permissions.can_decide(request.user, transition),
            object_type=workflow.OBJECT_TYPE,
            object_id=str(transition.pk),
            model_name=transition.registered_model.name,
            version=transition.model_version.version,
            target=transition.target,
        )
    form = DecisionForm(request.POST)
    if not form.is_valid():
        return _page(request, transition, form, status=400)

    data = form.cleaned_data
    try:
        decision = workflow.decide(
            request.user,  # type: ignore[arg-type]
            transition.pk,
            data["meaning"],
            data["rationale"],
            data["password"],
        )
    except workflow.Conflict as exc:
        transition.refresh_from_db()
        return _page(request, transition, None, refusal=str(exc), status=409)
    except workflow.InvalidRequest as exc:
        form.add_error(None, str(exc))
        if isinstance(exc, workflow.PasswordInRationale):
            # Not sent back in the page: the text holds the password.
            form.data = request.POST.copy()
            form.data["rationale"] = ""
        return _page(request, transition, form, status=400)
    except workflow.SignatureRefused as exc:
        form.add_error("password", str(exc))
        return _page(request, transition, form, status=400)
    except PermissionDenied as exc:
        return _page(request, transition, None, refusal=str(exc), status=403)

    messages.success(
        request, f"You signed request {transition.pk} as {decision.get_meaning_display()}."
    )
    return redirect("registry_ui:request_detail", transition.pk)
