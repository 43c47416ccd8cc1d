"""Correct a ledger entry from a page: a new entry pointing at it, never an edit."""

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from governance import ledger, permissions
from governance.models import LedgerEntry, RegisteredModel
from registry_ui import access
from registry_ui.ledger_text import entry_row
from registry_ui.workflow_forms import CorrectionForm


def _pretty(value: object) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)


def _timeline_url(entry: LedgerEntry) -> str:
    """Return the chain of custody showing ``entry``, when it is about a mirrored model."""
    model = (
        RegisteredModel.objects.filter(source__name=entry.source_name, name=entry.model_name)
        .only("pk")
        .first()
        if entry.model_name
        else None
    )
    return reverse("registry_ui:model_timeline", args=[model.pk]) if model else ""


@access.role_required(*access.READERS)
def correct_entry(request: HttpRequest, seq: int) -> HttpResponse:
    original = get_object_or_404(LedgerEntry.objects.select_related("corrects"), seq=seq)
    verdict = permissions.can_record_correction(request.user)
    if not verdict.allowed:
        if request.method != "POST":
            raise PermissionDenied(verdict.reason)
        # An attempt to change the record is a security event, as the command records it.
        try:
            permissions.refuse(
                request.user,
                "ledger.correction",
                verdict,
                object_type="ledger_entry",
                object_id=str(seq),
            )
        except PermissionDenied as exc:
            return render(request, "registry_ui/refused.html", {"reason": str(exc)}, status=403)

    after_json = _pretty(original.after)
    form = CorrectionForm(request.POST or None, initial={"after": after_json})
    status = 200
    if request.method == "POST" and form.is_valid():
        user: User = request.user  # type: ignore[assignment]
        try:
            correction = ledger.record_correction(
                original,
                actor=user,
                actor_role=verdict.role,
                reason=form.cleaned_data["reason"],
                after=form.cleaned_data["after"],
            )
        except ValueError as exc:
            form.add_error(None, str(exc))
            status = 400
        else:
            messages.success(
                request, f"Entry {correction.seq} records the correction of entry {original.seq}."
            )
            return redirect("registry_ui:correct_entry", original.seq)
    elif request.method == "POST":
        status = 400

    corrections = LedgerEntry.objects.filter(corrects=original).order_by("seq")
    context: dict[str, Any] = {
        "row": entry_row(original),
        "after_json": after_json,
        "before_json": _pretty(original.before),
        "corrections": [entry_row(entry) for entry in corrections],
        "timeline_url": _timeline_url(original),
        "form": form,
    }
    return render(request, "registry_ui/correct_entry.html", context, status=status)
