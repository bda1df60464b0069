"""ChargePaymentFunction (workflow task): charges the order's total once, through the payment
provider (idempotency key from the order), and tells the circuit breaker how the provider answered.
Returns DONE with the charge's id, DECLINED, ENDED (cancelled) or CIRCUIT_NOT_CLOSED (the breaker
is not closed and has not let this order through: nothing called); raises PaymentProviderError or
PaymentTimeout, faults that the workflow retries and takes back to the breaker."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from orders_domain.adapters.payment_provider import payment_provider
from orders_domain.models import ChargeRequest
from orders_domain.observability import logger, metrics
from orders_domain.persistence.orders import OrdersRepository
from orders_domain.rules.circuit_breaker import payment_breaker
from orders_domain.rules.saga import charge_order
from orders_domain.settings import OrdersTable, PaymentCircuitBreaker, PaymentProviderAccess


class ChargePaymentSettings(OrdersTable, PaymentProviderAccess, PaymentCircuitBreaker):
    pass


settings = ChargePaymentSettings.from_environment()
orders = OrdersRepository(settings.orders_table)
payments = payment_provider(settings)
breaker = payment_breaker(settings)


@metrics.log_metrics
@logger.inject_lambda_context(correlation_id_path="order_id")
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = ChargeRequest.model_validate(event)
    result = charge_order(request.order_id, orders, payments, breaker, cleared=request.cleared_by_breaker)
    logger.info("charge", outcome=result.outcome, charge_id=result.charge_id, detail=result.message)
    return result.model_dump(mode="json")
