"""CheckPaymentCircuitFunction (workflow task): may this order call the payment provider now? CALL,
WAIT (the shared circuit breaker is open) or GIVE_UP (it has waited PaymentMaxWait seconds)."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import Field

from orders_domain.observability import logger, metrics
from orders_domain.rules.circuit_breaker import payment_breaker
from orders_domain.rules.saga import payment_gate
from orders_domain.settings import PaymentCircuitBreaker, Seconds


class CheckPaymentCircuitSettings(PaymentCircuitBreaker):
    payment_max_wait: Seconds = Field(alias="PAYMENT_MAX_WAIT")


settings = CheckPaymentCircuitSettings.from_environment()
breaker = payment_breaker(settings)


@metrics.log_metrics
@logger.inject_lambda_context(correlation_id_path="order_id")
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    gate = payment_gate(breaker, (event.get("payment") or {}).get("waiting_since"), settings.payment_max_wait)
    logger.info("payment gate", decision=gate.decision, wait_seconds=gate.wait_seconds)
    return gate.model_dump()
