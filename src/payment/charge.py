"""ChargePaymentFunction (workflow task): charges the order's total once, through the payment
provider (idempotency key from the order), and tells the circuit breaker how the provider answered.
Raises PaymentDeclined, PaymentProviderError, PaymentTimeout or OrderNotProcessing (cancelled)."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from orders_domain.circuit_breaker import payment_breaker
from orders_domain.models import OrderRef
from orders_domain.observability import logger, metrics
from orders_domain.payments import payment_provider
from orders_domain.repositories import OrdersRepository
from orders_domain.saga import charge_order
from orders_domain.settings import get_settings

settings = get_settings()
orders = OrdersRepository(settings.orders_table)
payments = payment_provider(settings)
breaker = payment_breaker(settings)


@metrics.log_metrics
@logger.inject_lambda_context(correlation_id_path="order_id")
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = OrderRef.model_validate(event)
    charge_id = charge_order(request.order_id, orders, payments, breaker)
    logger.info("order charged", charge_id=charge_id)
    return {"order_id": request.order_id, "charge_id": charge_id}
