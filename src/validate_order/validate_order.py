"""ValidateOrderFunction (workflow task): the order's user and products exist; stores the total and
returns the priced lines, the total, whether staff must approve it and the customer to email (DONE),
or the outcome INVALID (the workflow rejects the order) or ENDED (no longer the workflow's)."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from orders_domain.models import OrderRef
from orders_domain.observability import logger
from orders_domain.persistence.inventory import InventoryRepository
from orders_domain.persistence.orders import OrdersRepository
from orders_domain.persistence.users import UsersRepository
from orders_domain.rules.saga import validate_order
from orders_domain.settings import ApprovalRules, InventoryTable, OrdersTable, UsersTable


class ValidateOrderSettings(OrdersTable, UsersTable, InventoryTable, ApprovalRules):
    pass


settings = ValidateOrderSettings.from_environment()
orders = OrdersRepository(settings.orders_table)
users = UsersRepository(settings.users_table)
inventory = InventoryRepository(settings.inventory_table)


@logger.inject_lambda_context(correlation_id_path="order_id")
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = OrderRef.model_validate(event)
    return validate_order(request.order_id, orders, users, inventory, settings).model_dump(mode="json")  # nulls kept
