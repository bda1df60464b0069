"""RequestApprovalFunction (workflow task, .waitForTaskToken): the order becomes AWAITING_APPROVAL
with the execution's task token, and staff are told on the approvals topic. The execution waits
until the back office's decision resumes it (or ApprovalTimeout runs out): the task's result is that
decision, so this function returns nothing."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from orders_domain.models import Record
from orders_domain.observability import logger
from orders_domain.repositories import OrdersRepository
from orders_domain.saga import request_approval
from orders_domain.settings import get_settings

settings = get_settings()
orders = OrdersRepository(settings.orders_table)
staff_topic_arn = settings.require("approval_topic_arn")


class ApprovalRequest(Record):
    order_id: str
    token: str


@logger.inject_lambda_context(correlation_id_path="order_id")
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> None:
    request = ApprovalRequest.model_validate(event)
    order = request_approval(request.order_id, request.token, orders, staff_topic_arn)
    logger.info("waiting for approval", total=order.total)
