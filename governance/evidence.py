"""Freeze the evidence a decision is based on, and bind decisions to it.

The evidence of a request is the candidate version's fingerprint and metrics and
the same for the incumbent (the version that held the target when the request was
made). It is stored as canonical JSON with its SHA-256, so a later reader sees
exactly what the officers saw and can check that nothing was edited.
"""

from typing import Any

from governance import ledger
from governance.models import ModelVersion, RegisteredModel, TransitionRequest

# Fingerprint fields whose change makes an approval lapse: the version then points
# at different model bytes, a different training run or a different interface.
BINDING_FIELDS = ("source_uri", "run_id", "signature_hash")


def digest(value: Any) -> str:
    """Return the SHA-256 of ``value``'s canonical JSON (non-finite floats spelled out)."""
    return ledger.hash_text(
        ledger.canonical_bytes({"value": ledger.json_safe(value)}),
    )


def identity(version: ModelVersion) -> dict[str, Any]:
    """Return what names a version: source, model and number."""
    model = version.registered_model
    return {"source": model.source.name, "model": model.name, "version": version.version}


def fingerprint(version: ModelVersion) -> dict[str, Any]:
    """Return the version's fingerprint as the mirror knows it now."""
    run = version.training_run
    params = run.params if run is not None else {}
    digests = (
        sorted(run.dataset_inputs.values_list("digest", flat=True).distinct())
        if run is not None
        else []
    )
    return {
        **identity(version),
        "source_uri": version.source_uri,
        "run_id": version.run_id,
        "signature_hash": digest(version.signature) if version.signature is not None else None,
        "dataset_digests": digests,
        "params_hash": digest(params),
    }


def metrics(version: ModelVersion) -> dict[str, Any]:
    """Return the latest metric values of the version's training run, NaN spelled out."""
    run = version.training_run
    if run is None:
        return {}
    return {
        metric.key: ledger.json_safe(float("nan") if metric.is_nan else metric.value)
        for metric in run.metrics.order_by("key")
    }


def incumbent(model: RegisteredModel, target_kind: str, target: str) -> ModelVersion | None:
    """Return the version that holds ``target`` of ``model`` in the mirror, if any."""
    live = model.versions.filter(deleted_observed_at__isnull=True)
    if target_kind == TransitionRequest.TargetKind.ALIAS:
        number = (model.aliases or {}).get(target)
        return live.filter(version=number).first() if number is not None else None
    # Several versions may share a stage; the newest is the one serving it.
    return live.filter(stage=target).order_by("-version").first()


def _describe(version: ModelVersion) -> dict[str, Any]:
    return {"fingerprint": fingerprint(version), "metrics": metrics(version)}


def freeze(version: ModelVersion, target_kind: str, target: str) -> tuple[dict[str, Any], str]:
    """Return the evidence snapshot for a request and its SHA-256."""
    holder = incumbent(version.registered_model, target_kind, target)
    evidence = ledger.json_safe(
        {
            "target_kind": target_kind,
            "target": target,
            "candidate": _describe(version),
            "incumbent": _describe(holder) if holder is not None else None,
        }
    )
    return evidence, evidence_hash(evidence)


def evidence_hash(evidence: dict[str, Any]) -> str:
    """Return the SHA-256 of the evidence's canonical JSON."""
    return ledger.hash_text(ledger.canonical_bytes(evidence))


def binding_hash(version_identity: dict[str, Any], frozen_hash: str) -> str:
    """Bind a decision to a version's identity and the evidence it was shown.

    ``version_identity`` holds the identity plus ``source_uri`` and ``run_id``.
    """
    keys = ("source", "model", "version", "source_uri", "run_id")
    payload = {key: version_identity.get(key) for key in keys}
    payload["evidence_hash"] = frozen_hash
    return ledger.hash_text(ledger.canonical_bytes(payload))


def changed_fields(frozen: dict[str, Any], now: dict[str, Any]) -> list[str]:
    """Return the binding fields that differ between two fingerprints."""
    return [name for name in BINDING_FIELDS if name in now and frozen.get(name) != now[name]]
