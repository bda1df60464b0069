"""RequestApprovalFunction (workflow task, .waitForTaskToken): the order becomes AWAITING_APPROVAL
with the execution's task token, and staff are told on the approvals topic. The execution waits
until the back office's decision resumes it (or ApprovalTimeout runs out): the task's result is that
decision, not this function's answer (which says whether the order now awaits staff, for whoever
invokes it by hand). An order that is no longer the workflow's is answered through the token
(ENDED), never by an error."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import Field

from orders_domain.models import Record
from orders_domain.observability import logger
from orders_domain.persistence.orders import OrdersRepository
from orders_domain.rules.saga import request_approval
from orders_domain.settings import Arn, OrdersTable


class RequestApprovalSettings(OrdersTable):
    approval_topic_arn: Arn = Field(alias="APPROVAL_TOPIC_ARN")


settings = RequestApprovalSettings.from_environment()
orders = OrdersRepository(settings.orders_table)


class ApprovalRequest(Record):
    order_id: str
    token: str


@logger.inject_lambda_context(correlation_id_path="order_id")
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = ApprovalRequest.model_validate(event)
    order = request_approval(request.order_id, request.token, orders, settings.approval_topic_arn)
    if order is None:
        logger.info("no longer the workflow's order: its wait is answered ENDED")
    else:
        logger.info("waiting for approval", total=order.total)
    return {"order_id": request.order_id, "awaiting_approval": order is not None}
