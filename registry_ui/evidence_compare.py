"""Read a request's frozen evidence as candidate-against-incumbent tables and a chart.

The evidence frozen with a request holds each version's metrics and fingerprint;
params and the signature are frozen as hashes only. Their values are read from the
mirror, and each is checked against the frozen hash, so the page says plainly when
what it shows is no longer what the officers were shown.
"""

import math
from dataclasses import dataclass
from typing import Any

from governance import evidence
from governance.models import ModelVersion, TransitionRequest
from registry_ui import charts
from registry_ui.signatures import SchemaRow, signature_tables


@dataclass(frozen=True)
class Side:
    """One of the two versions compared: its frozen fingerprint and mirror row."""

    label: str
    fingerprint: dict[str, Any]
    metrics: dict[str, Any]
    version: ModelVersion | None
    params_match: bool | None
    signature_match: bool | None


@dataclass(frozen=True)
class ValueRow:
    key: str
    candidate: str
    incumbent: str
    differs: bool


@dataclass(frozen=True)
class SignatureRow:
    part: str
    name: str
    candidate: str
    incumbent: str
    status: str


@dataclass(frozen=True)
class Comparison:
    candidate: Side
    incumbent: Side | None
    metrics: list[ValueRow]
    params: list[ValueRow]
    signature: list[SignatureRow]
    figure: charts.Figure | None
    hash_intact: bool

    @property
    def changed_since_request(self) -> bool:
        sides = [self.candidate] + ([self.incumbent] if self.incumbent else [])
        return any(side.params_match is False or side.signature_match is False for side in sides)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _text(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _mirror_version(fingerprint: dict[str, Any], request: TransitionRequest) -> ModelVersion | None:
    number = fingerprint.get("version")
    if not isinstance(number, int):
        return None
    if number == request.model_version.version:
        return request.model_version
    return (
        ModelVersion.objects.filter(registered_model=request.registered_model, version=number)
        .select_related("training_run")
        .first()
    )


def _params(version: ModelVersion | None) -> dict[str, Any] | None:
    if version is None or version.training_run is None:
        return None
    return dict(version.training_run.params or {})


def _side(label: str, frozen: dict[str, Any], request: TransitionRequest) -> Side:
    fingerprint = dict(frozen.get("fingerprint") or {})
    version = _mirror_version(fingerprint, request)
    params = _params(version)
    params_match = (
        None if params is None else evidence.digest(params) == fingerprint.get("params_hash")
    )
    signature_match = None
    if version is not None:
        current = evidence.digest(version.signature) if version.signature is not None else None
        signature_match = current == fingerprint.get("signature_hash")
    return Side(
        label=f"{label}: version {fingerprint.get('version', '?')}",
        fingerprint=fingerprint,
        metrics=dict(frozen.get("metrics") or {}),
        version=version,
        params_match=params_match,
        signature_match=signature_match,
    )


def _value_rows(candidate: dict[str, Any], incumbent: dict[str, Any] | None) -> list[ValueRow]:
    other = incumbent or {}
    rows = []
    for key in sorted(set(candidate) | set(other)):
        left, right = candidate.get(key), other.get(key)
        rows.append(
            ValueRow(
                key, _text(left), _text(right) if incumbent is not None else "—", left != right
            )
        )
    return rows


def _schema_index(signature: Any) -> dict[tuple[str, str], SchemaRow]:
    tables = signature_tables(signature)
    index: dict[tuple[str, str], SchemaRow] = {}
    for part, rows in (("input", tables.inputs), ("output", tables.outputs)):
        for row in rows:
            index[(part, row.name)] = row
    for row in tables.params:
        index[("parameter", row.name)] = row
    return index


def _describe(row: SchemaRow | None) -> str:
    if row is None:
        return "—"
    extra = [text for text in (row.detail, "required" if row.required == "yes" else "") if text]
    return row.type + (f" ({', '.join(extra)})" if extra else "")


def _signature_rows(candidate: Side, incumbent: Side | None) -> list[SignatureRow]:
    left = _schema_index(candidate.version.signature if candidate.version else None)
    right = _schema_index(incumbent.version.signature if incumbent and incumbent.version else None)
    rows = []
    for part, name in sorted(set(left) | set(right)):
        new, old = left.get((part, name)), right.get((part, name))
        if incumbent is None:
            status = "candidate only"
        elif old is None:
            status = "added"
        elif new is None:
            status = "removed"
        else:
            status = "same" if _describe(new) == _describe(old) else "changed"
        rows.append(SignatureRow(part, name, _describe(new), _describe(old), status))
    return rows


def _figure(candidate: Side, incumbent: Side | None, title: str) -> charts.Figure | None:
    keys = sorted(set(candidate.metrics) | set(incumbent.metrics if incumbent else {}))
    groups = [charts.BarGroup(candidate.label, [_number(candidate.metrics.get(k)) for k in keys])]
    if incumbent is not None:
        groups.append(
            charts.BarGroup(incumbent.label, [_number(incumbent.metrics.get(k)) for k in keys])
        )
    return charts.grouped_bar_figure(title, keys, groups)


def compare(request: TransitionRequest) -> Comparison:
    """Build the candidate-against-incumbent view of ``request``'s frozen evidence."""
    frozen = request.evidence or {}
    candidate = _side("Candidate", frozen.get("candidate") or {}, request)
    incumbent = (
        _side("Incumbent", frozen["incumbent"], request) if frozen.get("incumbent") else None
    )
    target = ("@" if request.target_kind == "alias" else "") + request.target
    return Comparison(
        candidate=candidate,
        incumbent=incumbent,
        metrics=_value_rows(candidate.metrics, incumbent.metrics if incumbent else None),
        params=_value_rows(
            _params(candidate.version) or {},
            _params(incumbent.version) if incumbent else None,
        ),
        signature=_signature_rows(candidate, incumbent),
        figure=_figure(candidate, incumbent, f"Metrics frozen with the request for {target}"),
        hash_intact=bool(frozen) and evidence.evidence_hash(frozen) == request.evidence_hash,
    )
