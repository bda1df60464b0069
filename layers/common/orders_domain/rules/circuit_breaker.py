"""The payment provider's circuit breaker, shared by every execution through one DynamoDB item.

CLOSED: calls go through; failures (errors and timeouts alike) are counted in a window of `wait`
seconds, and `threshold` of them open it. OPEN: nobody calls; after `wait` seconds the first
execution to check takes the one probe (HALF_OPEN, a lease of `wait` seconds) while the others keep
waiting. The probe's success closes it, its failure opens it again. Every change is a conditional
write on the item's version, so concurrent executions agree on one state.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import StrEnum
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from boto3.dynamodb.conditions import Attr
from botocore.exceptions import ClientError

from orders_domain.adapters import aws_clients
from orders_domain.observability import logger, metrics
from orders_domain.persistence.items import from_item
from orders_domain.persistence.update_expressions import set_values
from orders_domain.settings import PaymentCircuitBreaker


class BreakerState(StrEnum):
    CLOSED = "CLOSED"
    OPEN = "OPEN"
    HALF_OPEN = "HALF_OPEN"


class Decision(StrEnum):
    CALL = "CALL"  # call the provider now
    WAIT = "WAIT"  # the breaker is open: wait, then check again


class CircuitBreaker:
    def __init__(
        self, table_name: str, wait: int, threshold: int, name: str = "payment-provider",
        clock: Callable[[], float] = time.time,
    ) -> None:  # fmt: skip
        self.table_name, self.name = table_name, name
        self.wait, self.threshold = wait, threshold
        self.clock = clock

    def check(self) -> tuple[Decision, float]:
        """May this execution call the provider now? With WAIT, the seconds until the breaker lets a
        probe through. Emits the PaymentCircuitOpen gauge."""
        for _ in range(3):
            state, version, item = self._read()
            now = self.clock()
            if state is BreakerState.CLOSED:
                return self._decided(Decision.CALL, 0)
            # OPEN until `wait` after it opened; HALF_OPEN until the probe's lease runs out.
            free_at = float(item["opened_at"]) + self.wait if state is BreakerState.OPEN else float(item["probe_until"])
            if now < free_at:
                return self._decided(Decision.WAIT, free_at - now)
            if self._write(version, {"state": BreakerState.HALF_OPEN, "probe_until": now + self.wait}):
                self._transition(state, BreakerState.HALF_OPEN, "one probe lets a payment through")
                return self._decided(Decision.CALL, 0)
            # another execution changed it first: read again
        return self._decided(Decision.WAIT, self.wait)

    def closed(self) -> bool:
        """Is the breaker CLOSED? One read that changes nothing: a probe is taken only through check()."""
        state, _, _ = self._read()
        return state is BreakerState.CLOSED

    def _decided(self, decision: Decision, free_in: float) -> tuple[Decision, float]:
        metrics.add_metric(name="PaymentCircuitOpen", unit=MetricUnit.Count, value=int(decision is Decision.WAIT))
        return decision, free_in

    def record_success(self) -> None:
        state, version, _ = self._read()
        if state is not BreakerState.CLOSED and self._write(version, {"state": BreakerState.CLOSED, "failures": 0}):
            self._transition(state, BreakerState.CLOSED, "the provider answered again")
            metrics.add_metric(name="PaymentCircuitClosed", unit=MetricUnit.Count, value=1)

    def record_failure(self, kind: str) -> None:
        """A provider error or timeout (`kind`), after which the breaker may open."""
        for _ in range(3):
            state, version, item = self._read()
            now = self.clock()
            if state is BreakerState.OPEN:
                return
            if state is BreakerState.CLOSED:
                in_window = now - float(item.get("window_started", 0)) < self.wait
                failures = int(item.get("failures", 0)) + 1 if in_window else 1
                window_started = float(item["window_started"]) if in_window else now
                if failures < self.threshold:
                    if self._write(version, {"failures": failures, "window_started": window_started}):
                        return
                    continue
            if self._write(version, {"state": BreakerState.OPEN, "opened_at": now, "failures": 0}):
                self._transition(state, BreakerState.OPEN, f"after a payment {kind}")
                metrics.add_metric(name="PaymentCircuitOpened", unit=MetricUnit.Count, value=1)
                return

    def _read(self) -> tuple[BreakerState, int, dict[str, Any]]:
        response = aws_clients.dynamodb().get_item(TableName=self.table_name, Key=self._key(), ConsistentRead=True)
        item = from_item(response.get("Item") or {})
        return BreakerState(item.get("state", BreakerState.CLOSED)), int(item.get("version", 0)), item

    def _write(self, version: int, values: dict[str, Any]) -> bool:
        """Set `values` if nobody wrote since `version` was read; False otherwise."""
        try:
            aws_clients.dynamodb().update_item(
                TableName=self.table_name,
                Key=self._key(),
                **set_values(
                    {"version": version + 1, **values},
                    Attr("version").not_exists() | Attr("version").eq(version),
                ),
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def _key(self) -> dict[str, Any]:
        return {"name": {"S": self.name}}

    def _transition(self, before: BreakerState, after: BreakerState, why: str) -> None:
        logger.warning(f"payment circuit breaker {before} -> {after} ({why})", breaker=self.name, state=after)


def payment_breaker(settings: PaymentCircuitBreaker) -> CircuitBreaker:
    return CircuitBreaker(settings.breaker_table, settings.breaker_wait, settings.breaker_threshold)
