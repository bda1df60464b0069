"""The statistics an alarm may evaluate over one period's values."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

PERCENTILE = re.compile(r"p(\d{1,2}(?:\.\d+)?|100)")


def statistic(name: str, values: Sequence[float]) -> float:
    """`values` is not empty (a period without values is a missing datapoint)."""
    if name == "SampleCount":
        return float(len(values))
    if name == "Sum":
        return float(sum(values))
    if name == "Average":
        return float(sum(values)) / len(values)
    if name == "Minimum":
        return float(min(values))
    if name == "Maximum":
        return float(max(values))
    match = PERCENTILE.fullmatch(name)
    if match:
        return percentile(float(match.group(1)), values)
    raise ValueError(f"unsupported statistic {name}")


def percentile(rank: float, values: Sequence[float]) -> float:
    """Nearest rank: the smallest value that `rank` percent of the values do not exceed (CloudWatch
    estimates percentiles of large samples; on raw values this is the exact answer)."""
    ordered = sorted(values)
    index = max(0, math.ceil(rank / 100 * len(ordered)) - 1)
    return float(ordered[index])
