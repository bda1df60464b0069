"""The order saga's steps, shared by the workflow's tasks, the two APIs and the execution watcher.

Every step is a conditional write on the order, so that the workflow, staff (approval), the
customer (cancellation) and the watcher can race on one order and exactly one wins each step:
- a charge first claims the order (`charge_started_at`), a cancellation first marks it
  (`cancel_requested_at`); each claim requires the other's absence, so an order is either cancelled
  or charged, never both;
- the reservation holds the order in the same transaction (only while the workflow owns it);
- `close_order` is the last write of every ending that is not a confirmation: it refunds a charge and
  releases the stock first, then writes the terminal status only on an open order.
Every effect is idempotent (charge and refund keys derived from the order, a reservation marker),
so any step may run twice. Each workflow step answers with its outcome (`StepOutcome`), on which the
workflow's Choice states decide; only faults are raised.
"""

import json
import math
from typing import Literal

from orders_domain.adapters import aws_clients
from orders_domain.adapters.payment_provider import PaymentProvider
from orders_domain.adapters.workflows import resume
from orders_domain.errors import (
    ConflictError,
    NotFoundError,
    OrderNotProcessing,
    OutOfStock,
    PaymentDeclined,
    PaymentProviderError,
    PaymentTimeout,
)
from orders_domain.models import (
    Approval,
    ApprovalDecision,
    ChargeResult,
    Customer,
    Line,
    Order,
    OrderRecord,
    OrderStatus,
    Outcome,
    PaymentStatus,
    Record,
    RejectionReason,
    StepOutcome,
    StepResult,
    ValidatedOrder,
    utc_now,
)
from orders_domain.persistence.inventory import InventoryRepository
from orders_domain.persistence.orders import OrdersRepository
from orders_domain.persistence.users import UsersRepository
from orders_domain.rules.circuit_breaker import CircuitBreaker
from orders_domain.rules.pricing import needs_approval, priced_lines, total_of
from orders_domain.settings import ApprovalRules


def validate_order(
    order_id: str,
    orders: OrdersRepository,
    users: UsersRepository,
    inventory: InventoryRepository,
    approval: ApprovalRules,
) -> ValidatedOrder:
    """Check that the order's user and products exist, price its lines and store the total: DONE
    with the workflow's view of the order, INVALID (unknown order, user or product), or ENDED once the
    order is no longer the workflow's."""
    order = orders.get(order_id)
    if order is None:
        return _invalid(f"order {order_id} not found")
    user = users.get(order.user_id)
    if user is None:
        return _invalid(f"user {order.user_id} not found")
    stock = inventory.get_many(line.product_id for line in order.items)
    unknown = [line.product_id for line in order.items if line.product_id not in stock]
    if unknown:
        return _invalid(f"unknown products: {', '.join(unknown)}")
    lines = priced_lines(order.items, stock)
    total = total_of(lines)
    try:
        orders.price(order_id, total)
    except OrderNotProcessing as ended:
        return ValidatedOrder(outcome=StepOutcome.ENDED, message=str(ended))
    return ValidatedOrder(
        outcome=StepOutcome.DONE,
        user_id=order.user_id,
        items=lines,
        total=total,
        approval_required=needs_approval(total, approval.approval_threshold),
        approval_timeout=approval.approval_timeout,
        customer=Customer(email=user.email, name=user.name),
    )


def _invalid(message: str) -> ValidatedOrder:
    return ValidatedOrder(outcome=StepOutcome.INVALID, message=message)


def reserve_stock(
    order_id: str, items: list[Line], reserved_at: str, orders: OrdersRepository, inventory: InventoryRepository
) -> StepResult:
    """DONE (reserved now, or by an earlier attempt), OUT_OF_STOCK with nothing reserved, or ENDED
    when the order is no longer the workflow's. `reserved_at` comes from the workflow, the same on
    every attempt."""
    try:
        reserved = inventory.reserve(order_id, items, orders.reservation_guard(order_id, reserved_at), reserved_at)
    except OutOfStock as short:
        return StepResult(outcome=StepOutcome.OUT_OF_STOCK, message=str(short))
    except OrderNotProcessing as ended:
        return StepResult(outcome=StepOutcome.ENDED, message=str(ended))
    return StepResult(outcome=StepOutcome.DONE, message=None if reserved else "reserved by an earlier attempt")


def request_approval(order_id: str, token: str, orders: OrdersRepository, staff_topic_arn: str) -> OrderRecord | None:
    """AWAITING_APPROVAL with the workflow's token, and staff told what they need to decide. An order
    that is no longer the workflow's is answered through the token (ENDED): the waiting task's result
    is the token's answer, never this function's; None then."""
    try:
        record = orders.await_approval(order_id, token)
    except OrderNotProcessing as ended:
        resume(token, StepResult(outcome=StepOutcome.ENDED, message=str(ended)))
        return None
    aws_clients.sns().publish(
        TopicArn=staff_topic_arn,
        Subject=f"Order {order_id} needs approval",
        Message=json.dumps(
            {
                "order_id": order_id,
                "user_id": record.user_id,
                "total": f"{record.total:.2f}",
                "items": [line.model_dump() for line in record.items],
                "decide": f'POST /orders/{order_id}/approval {{"approved": true|false, "comment": ...}}',
            }
        ),
        MessageAttributes={"order_id": {"DataType": "String", "StringValue": order_id}},
    )
    return record


def decide_approval(
    order_id: str, decision: ApprovalDecision, staff_id: str, orders: OrdersRepository, inventory: InventoryRepository
) -> Order:
    """Staff's decision on an order AWAITING_APPROVAL: approved → PROCESSING and the workflow goes on
    to payment; not approved → REJECTED NOT_APPROVED, stock released, and the workflow ends."""
    approval = Approval(approved=decision.approved, by=staff_id, at=utc_now(), comment=decision.comment)
    record = orders.decide(order_id, approval)
    if record is None:
        current = orders.get(order_id)
        if current is None:
            raise NotFoundError(f"order {order_id} not found")
        raise ConflictError(f"order {order_id} is {current.status}, not awaiting approval")
    if not approval.approved:
        record = close_order(order_id, Outcome(status=OrderStatus.REJECTED, reason=RejectionReason.NOT_APPROVED),
                             orders, inventory, payments=None)  # fmt: skip
    if record.approval_token and not resume(record.approval_token, _approval_answer(approval)) and approval.approved:
        # The wait ran out in between: the workflow ends the order (APPROVAL_TIMEOUT) itself.
        raise ConflictError(f"order {order_id}: the time to approve it has run out")
    return record.public()


def _approval_answer(approval: Approval) -> StepResult:
    """The approval task's result: APPROVED, or ENDED (staff rejected the order and ended it)."""
    if approval.approved:
        return StepResult(outcome=StepOutcome.APPROVED, message=f"approved by {approval.by}")
    return StepResult(outcome=StepOutcome.ENDED, message=f"not approved by {approval.by}")


def cancel_order(order_id: str, owner: str, orders: OrdersRepository, inventory: InventoryRepository) -> Order:
    """The customer's cancellation of an unpaid open order: CANCELLED, stock released, no charge."""
    cancelled, record = orders.request_cancel(order_id, owner)
    if record is None:
        raise NotFoundError(f"order {order_id} not found")
    if not cancelled:
        state = str(record.status) if record.status.is_terminal else "being paid"
        raise ConflictError(f"order {order_id} is {state}: it can no longer be cancelled")
    closed = close_order(order_id, Outcome(status=OrderStatus.CANCELLED, reason=""), orders, inventory, payments=None)
    if record.status is OrderStatus.AWAITING_APPROVAL and record.approval_token:
        ended = StepResult(outcome=StepOutcome.ENDED, message=f"order {order_id} was cancelled by its customer")
        resume(record.approval_token, ended)
    return closed.public()


class PaymentGate(Record):
    """CheckPaymentCircuit's answer: CALL the provider now, WAIT `wait_seconds` and check again, or
    GIVE_UP after `PaymentMaxWait` seconds of waiting. `waiting_since` is carried through the loop."""

    decision: Literal["CALL", "WAIT", "GIVE_UP"]
    wait_seconds: int
    waiting_since: float


def payment_gate(breaker: CircuitBreaker, waiting_since: float | None, max_wait: int) -> PaymentGate:
    now = breaker.clock()
    since = now if waiting_since is None else waiting_since
    left = max_wait - (now - since)
    if left <= 0:
        return PaymentGate(decision="GIVE_UP", wait_seconds=0, waiting_since=since)
    decision, free_in = breaker.check()
    wait = max(1, math.ceil(min(free_in, left)))  # until the breaker lets a probe through, or the deadline
    return PaymentGate(decision=decision.value, wait_seconds=wait, waiting_since=since)


def charge_order(
    order_id: str, orders: OrdersRepository, payments: PaymentProvider, breaker: CircuitBreaker, cleared: bool
) -> ChargeResult:
    """Charge the order once (the provider's idempotency key is the order's): DONE with the charge's
    id, DECLINED, ENDED (cancelled first), or CIRCUIT_NOT_CLOSED without calling the provider when the
    breaker is not CLOSED and has not `cleared` this order (the workflow then asks the breaker, which
    alone hands out the half-open probe). Raises PaymentProviderError or PaymentTimeout (faults,
    retried); the breaker hears of every answer."""
    charged = orders.record(order_id)
    if charged is not None and charged.payment_status is PaymentStatus.CHARGED and charged.charge_id:
        return ChargeResult(outcome=StepOutcome.DONE, charge_id=charged.charge_id)  # a repeated task
    if not cleared and not breaker.closed():
        return ChargeResult(outcome=StepOutcome.CIRCUIT_NOT_CLOSED, message="the payment circuit is not closed")
    try:
        record = orders.claim_charge(order_id)
    except OrderNotProcessing as ended:
        return ChargeResult(outcome=StepOutcome.ENDED, message=str(ended))
    if record.total is None or not record.payment_method:
        raise ValueError(f"order {order_id} has no total or payment method to charge")
    try:
        charge_id = payments.charge(order_id, record.total, record.payment_method)
    except PaymentDeclined as declined:
        breaker.record_success()  # the provider works: it said no
        return ChargeResult(outcome=StepOutcome.DECLINED, message=str(declined))
    except (PaymentProviderError, PaymentTimeout) as error:
        breaker.record_failure("timeout" if isinstance(error, PaymentTimeout) else "error")
        raise
    breaker.record_success()
    orders.charged(order_id, charge_id)
    return ChargeResult(outcome=StepOutcome.DONE, charge_id=charge_id)


def close_order(
    order_id: str,
    outcome: Outcome,
    orders: OrdersRepository,
    inventory: InventoryRepository,
    payments: PaymentProvider | None,
) -> OrderRecord:
    """End an order that will not be confirmed: refund, release, then the terminal status (the last
    write). Idempotent; an order that is already terminal is returned unchanged."""
    record = orders.record(order_id)
    if record is None:
        raise NotFoundError(f"order {order_id} not found")
    if record.status.is_terminal:
        return record
    if record.payment_status is PaymentStatus.CHARGED and record.charge_id:
        if payments is None:
            raise ConflictError(f"order {order_id} is charged: only the workflow can end it")
        orders.refunded(order_id, payments.refund(order_id, record.charge_id))
    inventory.release(order_id)
    _, closed = orders.close(order_id, outcome.status, outcome.reason or None)
    return closed or record
