"""Read an MLflow model signature into rows a reviewer can scan."""

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SchemaRow:
    name: str
    type: str
    required: str
    detail: str


@dataclass(frozen=True)
class SignatureTables:
    inputs: list[SchemaRow]
    outputs: list[SchemaRow]
    params: list[SchemaRow]

    def __bool__(self) -> bool:
        return bool(self.inputs or self.outputs or self.params)


def _type_text(spec: dict[str, Any]) -> str:
    kind = str(spec.get("type", ""))
    if kind == "tensor":
        tensor = spec.get("tensor-spec") or {}
        return f"tensor of {tensor.get('dtype', '?')}"
    if kind == "array":
        items = spec.get("items")
        return f"array of {_type_text(items) if isinstance(items, dict) else '?'}"
    if kind == "object":
        properties = spec.get("properties") or {}
        return "object {" + ", ".join(str(name) for name in properties) + "}"
    if kind == "map":
        values = spec.get("values")
        return f"map of {_type_text(values) if isinstance(values, dict) else '?'}"
    return kind or "unknown"


def _rows(raw: Any, is_params: bool = False) -> list[SchemaRow]:
    # MLflow's own to_dict() keeps each schema as a JSON string; the sync stores
    # parsed lists, so both shapes are read.
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return [SchemaRow("", "unreadable", "", raw[:200])]
    if not isinstance(raw, list):
        return []
    rows = []
    for position, spec in enumerate(raw, start=1):
        if not isinstance(spec, dict):
            continue
        name = str(spec.get("name", "")) or f"(column {position})"
        detail = ""
        if spec.get("type") == "tensor":
            shape = (spec.get("tensor-spec") or {}).get("shape")
            detail = f"shape {shape}" if shape is not None else ""
        if is_params:
            detail = f"default {spec.get('default')!r}"
            if spec.get("shape") is not None:
                detail += f", shape {spec.get('shape')}"
        required = "" if is_params else ("yes" if spec.get("required", True) else "no")
        rows.append(SchemaRow(name, _type_text(spec), required, detail))
    return rows


def signature_tables(signature: Any) -> SignatureTables:
    """Split a signature dict into input, output and parameter rows."""
    if not isinstance(signature, dict):
        return SignatureTables([], [], [])
    return SignatureTables(
        _rows(signature.get("inputs")),
        _rows(signature.get("outputs")),
        _rows(signature.get("params"), is_params=True),
    )
