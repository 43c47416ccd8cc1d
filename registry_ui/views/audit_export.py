"""The auditors' copy of a model's ledger for a period, and what held Production on a date.

Each exported entry carries its sequence number, its hash, the hash it links to and
the result of checking it, next to the result of verifying the whole chain and its
signed checkpoints, so a reader can tell whether anything changed after recording.
"""

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils import timezone

from governance import ledger, ledger_verify, point_in_time
from governance.ledger_verify import ROW_FIELDS, VerificationReport
from governance.models import LedgerEntry, RegisteredModel
from registry_ui import access
from registry_ui.csv_export import csv_response
from registry_ui.formatting import time_text
from registry_ui.ledger_text import EntryRow, entry_row
from registry_ui.workflow_forms import AuditExportForm, OnDateForm

AUDITORS = (access.GOVERNANCE_OFFICER, access.EXECUTIVE, access.ADMIN)
FORMATS = ("html", "csv", "json")
VERIFIED = "verified"
# Entries per page on screen; the downloads always hold every entry of the period.
PAGE_SIZE = 500


@dataclass(frozen=True)
class AuditedEntry:
    row: EntryRow
    verified: bool
    detail: str


def _models() -> list[tuple[str, str]]:
    return [
        (str(model.pk), f"{model.name} ({model.source.name})")
        for model in RegisteredModel.objects.select_related("source").order_by("name", "pk")
    ]


def _previous_hashes(seqs: Iterable[int]) -> dict[int, str]:
    wanted = [seq - 1 for seq in seqs if seq > 1]
    found = dict(LedgerEntry.objects.filter(seq__in=wanted).values_list("seq", "entry_hash"))
    found[0] = ledger.GENESIS_HASH
    return found


def _check_entry(values: Sequence[Any], previous: str | None) -> str:
    """Return "" when the entry hashes, agrees with its columns and links; else why not."""
    seq = values[ROW_FIELDS.index("seq")]
    if previous is None:
        return f"entry {seq - 1}, which it should link to, is missing"
    report = ledger_verify.check_rows([values], start_seq=seq, start_prev=previous)
    return "" if report.intact else str(report.problem)


def _audit(entries: list[LedgerEntry], chain: VerificationReport) -> list[AuditedEntry]:
    """Pair each entry with its check.

    An intact chain vouches for every entry in it. A broken one is checked entry by
    entry, so the copy says which of this model's entries still hash and link.
    """
    if chain.intact:
        return [AuditedEntry(entry_row(entry), True, VERIFIED) for entry in entries]

    previous = _previous_hashes(entry.seq for entry in entries)
    rows = {
        values[0]: values
        for values in LedgerEntry.objects.filter(
            pk__in=[entry.pk for entry in entries]
        ).values_list("pk", *ROW_FIELDS)
    }
    broken_at = chain.problem.seq if chain.problem and chain.problem.seq else None
    audited = []
    for entry in entries:
        problem = _check_entry(rows[entry.pk][1:], previous.get(entry.seq - 1))
        if not problem and (broken_at is None or entry.seq >= broken_at):
            problem = f"the chain does not verify from here: {chain.problem}"
        audited.append(AuditedEntry(entry_row(entry), not problem, problem or VERIFIED))
    return audited


def _chain_summary(chain: VerificationReport) -> dict[str, Any]:
    return {
        "intact": chain.intact,
        "entries_checked": chain.entries,
        "head_seq": chain.last_seq,
        "head_hash": chain.last_hash,
        "signed_checkpoints": chain.checkpoints,
        "problem": str(chain.problem) if chain.problem else None,
    }


def _entry_json(item: AuditedEntry) -> dict[str, Any]:
    entry = item.row.entry
    return {
        "seq": entry.seq,
        "recorded_at": ledger.format_time(entry.recorded_at),
        "actor_username": entry.actor_username,
        "actor_name": entry.actor_name,
        "actor_role": entry.actor_role,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "model_name": entry.model_name,
        "version": entry.version,
        "target": entry.target,
        "before": entry.before,
        "after": entry.after,
        "reason": entry.reason,
        "request_id": entry.request_id,
        "client_address": entry.client_address,
        "precision": entry.precision,
        "window_start": ledger.format_time(entry.window_start),
        "window_end": ledger.format_time(entry.window_end),
        "corrects_seq": entry.corrects.seq if entry.corrects else None,
        # The exact bytes that were hashed: SHA-256(canonical) must equal entry_hash.
        "canonical": entry.canonical,
        "prev_hash": entry.prev_hash,
        "entry_hash": entry.entry_hash,
        "verification": {"verified": item.verified, "detail": item.detail},
    }


CSV_HEADER = (
    "seq",
    "recorded_at_utc",
    "actor_username",
    "actor_name",
    "actor_role",
    "action",
    "version",
    "target",
    "before",
    "after",
    "reason",
    "precision",
    "window_start_utc",
    "window_end_utc",
    "request_id",
    "client_address",
    "prev_hash",
    "entry_hash",
    "verified",
    "verification_detail",
)


def _csv_row(item: AuditedEntry) -> list[object]:
    entry = item.row.entry
    return [
        entry.seq,
        ledger.format_time(entry.recorded_at),
        entry.actor_username,
        entry.actor_name,
        entry.actor_role,
        entry.action,
        entry.version,
        entry.target,
        item.row.before,
        item.row.after,
        entry.reason,
        entry.precision,
        ledger.format_time(entry.window_start) or "",
        ledger.format_time(entry.window_end) or "",
        entry.request_id,
        entry.client_address,
        entry.prev_hash,
        entry.entry_hash,
        "yes" if item.verified else "no",
        item.detail,
    ]


def _filename(model: RegisteredModel, since: datetime | None, until: datetime | None) -> str:
    safe = "".join(char if char.isalnum() or char in "-_" else "_" for char in model.name)[:60]
    span = f"{since:%Y%m%d}" if since else "start"
    span += f"-{until:%Y%m%d}" if until else "-now"
    return f"ledger-{safe or 'model'}-{span}"


@access.role_required(*AUDITORS)
def audit_export(request: HttpRequest) -> HttpResponseBase:
    output = request.GET.get("format", "html")
    if output not in FORMATS:
        return HttpResponseBadRequest("format must be html, csv or json")
    form = AuditExportForm(_models(), request.GET or None)
    context: dict[str, Any] = {"form": form}
    if not form.is_bound:
        return render(request, "registry_ui/audit_export.html", context)
    if not form.is_valid():
        return render(request, "registry_ui/audit_export.html", context, status=400)

    model = RegisteredModel.objects.select_related("source").get(pk=form.cleaned_data["model"])
    since, until = form.bounds()
    entries = LedgerEntry.objects.filter(
        source_name=model.source.name, model_name=model.name
    ).select_related("corrects")
    if since:
        entries = entries.filter(recorded_at__gte=since)
    if until:
        entries = entries.filter(recorded_at__lt=until)
    chain = ledger_verify.verify_ledger()
    audited = _audit(list(entries.order_by("seq")), chain)
    generated_at = timezone.now()
    name = _filename(model, since, until)

    if output == "csv":
        return csv_response(f"{name}.csv", CSV_HEADER, (_csv_row(item) for item in audited))
    if output == "json":
        body = {
            "model": {"source": model.source.name, "name": model.name},
            "period": {
                "from": ledger.format_time(since),
                "until_exclusive": ledger.format_time(until),
            },
            "generated_at": ledger.format_time(generated_at),
            "generated_by": request.user.get_username(),
            "hash": "SHA-256 of each entry's canonical text; prev_hash links to the entry before",
            "chain": _chain_summary(chain),
            "entries": [_entry_json(item) for item in audited],
        }
        # No indent: Python's indenting encoder is several times slower than the C one.
        response = HttpResponse(
            json.dumps(body, ensure_ascii=False),
            content_type="application/json; charset=utf-8",
        )
        response["Content-Disposition"] = f'attachment; filename="{name}.json"'
        return response

    query = request.GET.copy()
    query.pop("format", None)
    query.pop("page", None)
    context.update(
        {
            "model": model,
            "since": since,
            "until": until,
            "chain": chain,
            "page": Paginator(audited, PAGE_SIZE).get_page(request.GET.get("page")),
            "total": len(audited),
            "generated_at": generated_at,
            "query": query.urlencode(),
            "all_verified": all(item.verified for item in audited),
        }
    )
    return render(request, "registry_ui/audit_export.html", context)


@dataclass(frozen=True)
class ProductionRow:
    model: RegisteredModel
    holding: point_in_time.Holding


def _held_on(moment: datetime) -> list[ProductionRow]:
    governed = set(settings.GOVERNED_ALIASES)
    rows = []
    models = list(RegisteredModel.objects.select_related("source").order_by("name", "pk"))
    holdings = point_in_time.holders_at_each(
        [(model.source.name, model.name) for model in models], moment
    )
    for model in models:
        for holding in holdings[(model.source.name, model.name)]:
            wanted = (
                holding.target == "Production"
                if holding.target_kind == point_in_time.STAGE
                else holding.target in governed
            )
            if wanted and (holding.version is not None or holding.uncertain):
                rows.append(ProductionRow(model, holding))
    return rows


def _version_text(holding: point_in_time.Holding) -> str:
    if holding.uncertain:
        return " or ".join("none" if c is None else str(c) for c in holding.candidates)
    return "" if holding.version is None else str(holding.version)


@access.role_required(*access.READERS)
def report_production_on_date(request: HttpRequest) -> HttpResponseBase:
    form = OnDateForm(request.GET or None)
    context: dict[str, Any] = {"form": form}
    if not form.is_bound:
        return render(request, "registry_ui/report_production_on_date.html", context)
    if not form.is_valid():
        return render(request, "registry_ui/report_production_on_date.html", context, status=400)

    moment = form.cleaned_data["moment"]
    rows = _held_on(moment)
    if request.GET.get("format") == "csv":
        return csv_response(
            f"production-on-{moment:%Y%m%dT%H%M%S}.csv",
            (
                "model",
                "source",
                "stage_or_alias",
                "version",
                "precision",
                "requested_by",
                "request_reason",
                "approved_by",
                "approval_reasons",
                "ledger_seq",
            ),
            (
                (
                    row.model.name,
                    row.model.source.name,
                    ("@" if row.holding.target_kind == "alias" else "") + row.holding.target,
                    _version_text(row.holding),
                    row.holding.precision_text,
                    row.holding.requested_by,
                    row.holding.request_reason,
                    "; ".join(row.holding.approved_by),
                    # One line per approval: a reason may hold any punctuation.
                    "\n".join(
                        f"{approval.signer}: {approval.reason}"
                        for approval in row.holding.approvals
                    ),
                    row.holding.entry_seq,
                )
                for row in rows
            ),
        )
    query = request.GET.copy()
    query["format"] = "csv"
    context.update(
        {
            "moment": moment,
            "moment_text": time_text(moment),
            "rows": [(row, _version_text(row.holding)) for row in rows],
            "csv_query": query.urlencode(),
        }
    )
    return render(request, "registry_ui/report_production_on_date.html", context)
