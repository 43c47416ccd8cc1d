"""Cells that a spreadsheet would run as formulas are neutralised."""

import pytest

from registry_ui.csv_export import neutralise


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("=1+1", "'=1+1"),
        ("+cmd", "'+cmd"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("plain", "plain"),
        (None, ""),
        (3, "3"),
    ],
)
def test_it_neutralises_formula_starts(value: object, text: str) -> None:
    assert neutralise(value) == text
