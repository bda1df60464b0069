"""Metric datapoints, kept where CloudWatch's API reads them: moto's CloudWatch backend of the
stack's account and region. Written to the backend directly (not through a client): a datapoint
is published by the service (Lambda, API Gateway), not by a principal whose role would need
cloudwatch:PutMetricData.

Datapoints are stamped with the sink's clock (an injectable `time.time`), so that tests make
periods pass without waiting.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from moto.cloudwatch.models import CloudWatchBackend, MetricDatum, cloudwatch_backends

Clock = Callable[[], float]  # seconds since the epoch, like time.time
Dimensions = tuple[tuple[str, str], ...]  # (name, value) pairs, sorted: CloudWatch matches them exactly
MetricKey = tuple[str, str, Dimensions]  # namespace, metric name, dimensions


def dimensions(named: Mapping[str, str]) -> Dimensions:
    return tuple(sorted(named.items()))


@dataclass(frozen=True)
class Datapoint:
    timestamp: float
    value: float


class MetricSink:
    def __init__(self, account_id: str, region: str, clock: Clock = time.time) -> None:
        self.account_id = account_id
        self.region = region
        self.clock = clock

    @property
    def backend(self) -> CloudWatchBackend:
        backend: CloudWatchBackend = cloudwatch_backends[self.account_id][self.region]
        return backend

    def put(self, namespace: str, name: str, dimensions: Mapping[str, str], value: float, unit: str = "Count") -> None:
        datum = {
            "MetricName": name,
            "Value": float(value),
            "Unit": unit,
            "Dimensions": [{"Name": key, "Value": dimension} for key, dimension in dimensions.items()],
            # Naive UTC, as moto keeps the datapoints PutMetricData sends: GetMetricStatistics compares
            # them with naive times, and an aware one failed it.
            "Timestamp": datetime.fromtimestamp(self.clock(), UTC).replace(tzinfo=None),
        }
        self.backend.put_metric_data(namespace, [datum])

    def series(self) -> dict[MetricKey, list[Datapoint]]:
        """Every metric's datapoints, oldest first."""
        found: dict[MetricKey, list[Datapoint]] = {}
        for datum in list(self.backend.metric_data):
            if not isinstance(datum, MetricDatum):
                continue  # statistic sets: the local services publish single values only
            named = dimensions({d.name or "": d.value or "" for d in datum.dimensions})
            key = (datum.namespace, datum.name, named)
            found.setdefault(key, []).append(Datapoint(_epoch(datum.timestamp), datum.value))
        for points in found.values():
            points.sort(key=lambda point: point.timestamp)
        return found


def _epoch(moment: datetime) -> float:
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()
