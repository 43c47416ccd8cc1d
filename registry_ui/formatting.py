"""Text forms of mirrored values shared by pages and CSV downloads."""

import math
from datetime import datetime


def metric_text(value: float | None, is_nan: bool = False, precise: bool = False) -> str:
    """Spell a metric value, showing NaN and the infinities by name."""
    if is_nan or (value is not None and math.isnan(value)):
        return "NaN"
    if value is None:
        return ""
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return repr(value) if precise else f"{value:.6g}"


def time_text(moment: datetime | None) -> str:
    """Spell an aware datetime in UTC to the second, the way every page shows time."""
    if moment is None:
        return ""
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")
