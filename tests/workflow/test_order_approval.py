"""The order workflow's approval of a large order: reserved, then waiting for staff's decision (a task
token), approved and charged, rejected, or timed out; a decision that meets a wait that has just run out.
Every test checks the exact states entered."""

from __future__ import annotations

import json
import threading
from types import SimpleNamespace
from typing import ClassVar

import pytest
from moto.core.exceptions import JsonRESTError
from moto.stepfunctions.parser.asl.component.state.exec import execute_state
from moto.stepfunctions.parser.models import StepFunctionsParserBackend

from support import seed
from support.aws import failing_backend_call, table_items
from support.order_saga import (
    AWAITING_APPROVAL,
    BREAKER,
    CHARGED,
    CONFIRMATION,
    FAILED_END,
    LARGE,
    PAYMENT_STEPS,
    REJECTED_END,
    answers_of,
    assert_retried_after_lambda_failed,
    awaiting_approval,
    failed_tasks,
    lambda_fails,
    order_of,
    path_of,
)
from support.workflow import execution_arn, process, wait_for_execution


def test_a_large_order_waits_for_approval_then_is_charged_and_confirmed(
    back_office, storefront, stack, local_lambda, payments, approval_requests
):
    seed.stock(back_office, "gadget", 40, price=40)
    order_id = seed.order(storefront, LARGE)
    awaiting_approval(local_lambda, back_office, order_id)
    [request] = approval_requests.notifications()
    assert request["Subject"] == f"Order {order_id} needs approval"
    assert json.loads(request["Message"]) == {
        "order_id": order_id,
        "user_id": storefront.claims["sub"],
        "total": "1200.00",
        "items": [{"product_id": "gadget", "quantity": 30}],
        "decide": f'POST /orders/{order_id}/approval {{"approved": true|false, "comment": ...}}',
    }
    # Subscribers may filter on the order (a filter policy reads message attributes only).
    assert request["MessageAttributes"] == {"order_id": {"Type": "String", "Value": order_id}}
    assert seed.quantity(back_office, "gadget") == 10  # reserved before approval
    assert payments.charges == []

    decided = back_office.post(f"/orders/{order_id}/approval", {"approved": True, "comment": "known customer"})

    assert decided.status == 200
    assert decided.body["status"] == "PROCESSING"
    assert decided.body["approval"]["approved"] is True
    assert decided.body["approval"]["by"] == "staff-0001"
    assert decided.body["approval"]["comment"] == "known customer"
    assert wait_for_execution(stack, execution_arn(stack, order_id))["status"] == "SUCCEEDED"
    order = order_of(back_office, order_id)
    assert (order["status"], order["approval"]["approved"]) == ("CONFIRMED", True)
    assert [charge["amount"] for charge in payments.charges] == ["1200.00"]
    approved = {"outcome": "APPROVED", "message": "approved by staff-0001"}
    assert answers_of(stack, order_id, "RequestApproval") == [approved]
    assert path_of(stack, order_id) == [
        *AWAITING_APPROVAL, "ApprovalOutcome", *PAYMENT_STEPS, *BREAKER, *CHARGED, *CONFIRMATION
    ]  # fmt: skip
    again = back_office.post(f"/orders/{order_id}/approval", {"approved": False})
    assert (again.status, again.body) == (409, {"message": f"order {order_id} is CONFIRMED, not awaiting approval"})
    unknown = back_office.post("/orders/3f1c2a9e-0000-4c1e-9f7a-2b6d5e4c3a21/approval", {"approved": True})
    assert (unknown.status, unknown.body) == (404, {"message": "order 3f1c2a9e-0000-4c1e-9f7a-2b6d5e4c3a21 not found"})


def test_an_order_worth_more_than_the_highest_price_is_priced_and_waits_for_approval(
    back_office, storefront, stack, local_lambda, approval_requests
):
    """Totals are sums, not prices: 1,000 units at the highest price (1,000,000) are 10^9."""
    seed.stock(back_office, "dear", 1000, price=1_000_000)
    order_id = seed.order(storefront, {"dear": 1000})

    order = awaiting_approval(local_lambda, back_office, order_id)

    assert order["total"] == 1_000_000_000
    [request] = approval_requests.notifications()
    assert json.loads(request["Message"])["total"] == "1000000000.00"
    back_office.post(f"/orders/{order_id}/approval", {"approved": False})
    assert process(local_lambda, stack, order_id)["status"] == "SUCCEEDED"


def test_an_approval_request_that_lambda_fails_once_is_retried_and_the_order_awaits_staff(
    back_office, storefront, stack, local_lambda, payments, approval_requests, backoff, monkeypatch
):
    seed.stock(back_office, "gadget", 40, price=40)
    order_id = seed.order(storefront, LARGE)
    with lambda_fails(monkeypatch, "RequestApprovalFunction", attempts=1):
        order = awaiting_approval(local_lambda, back_office, order_id)

    assert_retried_after_lambda_failed(stack, order_id, backoff, failed_attempts=1)
    assert (order["status"], seed.quantity(back_office, "gadget")) == ("AWAITING_APPROVAL", 10)
    assert len(approval_requests.notifications()) == 1
    back_office.post(f"/orders/{order_id}/approval", {"approved": False})  # the execution ends
    assert wait_for_execution(stack, execution_arn(stack, order_id))["status"] == "SUCCEEDED"
    assert payments.charges == []


def test_an_approval_request_that_lambda_fails_every_attempt_fails_the_order_with_its_stock_released(
    back_office, storefront, stack, local_lambda, payments, approval_requests, backoff, monkeypatch
):
    seed.stock(back_office, "gadget", 40, price=40)
    order_id = seed.order(storefront, LARGE)
    with lambda_fails(monkeypatch, "RequestApprovalFunction", attempts=4):
        assert process(local_lambda, stack, order_id)["status"] == "FAILED"

    assert_retried_after_lambda_failed(stack, order_id, backoff, failed_attempts=4)
    order = order_of(back_office, order_id)
    assert (order["status"], order["reason"]) == ("FAILED", "PROCESSING_ERROR")
    assert (seed.quantity(back_office, "gadget"), approval_requests.notifications()) == (40, [])
    assert path_of(stack, order_id) == [*AWAITING_APPROVAL, "ProcessingError", *FAILED_END]
    assert payments.charges == []


def test_a_large_order_that_staff_reject_is_rejected_with_its_stock_released(
    back_office, storefront, stack, local_lambda, payments
):
    seed.stock(back_office, "gadget", 40, price=40)
    order_id = seed.order(storefront, LARGE)
    awaiting_approval(local_lambda, back_office, order_id)

    decided = back_office.post(f"/orders/{order_id}/approval", {"approved": False, "comment": "suspicious"})

    assert decided.status == 200
    assert (decided.body["status"], decided.body["reason"]) == ("REJECTED", "NOT_APPROVED")
    assert decided.body["approval"] == {
        "approved": False,
        "by": "staff-0001",
        "at": decided.body["approval"]["at"],
        "comment": "suspicious",
    }
    assert seed.quantity(back_office, "gadget") == 40
    assert wait_for_execution(stack, execution_arn(stack, order_id))["status"] == "SUCCEEDED"
    assert order_of(back_office, order_id)["status"] == "REJECTED"
    assert payments.charges == []
    assert path_of(stack, order_id) == [*AWAITING_APPROVAL, "ApprovalOutcome", "EndedElsewhere"]
    # Staff ended the order themselves: the waiting task's result says so, no task failed.
    ended = {"outcome": "ENDED", "message": "not approved by staff-0001"}
    assert answers_of(stack, order_id, "RequestApproval") == [ended]
    assert failed_tasks(stack, order_id) == []


class ApprovalWait(threading.Event):
    """moto's timer of a task state (the Event it waits on for TimeoutSeconds): the approval's, set to
    APPROVAL_WAIT, runs out when the test calls `run_out` (or at once, if that came first), and moto
    then times the task out as it would at the deadline; every other task's lasts as long as it says."""

    waiting: ClassVar[list[ApprovalWait]]
    over: ClassVar[bool]

    def wait(self, timeout: float | None = None) -> bool:
        if timeout != APPROVAL_WAIT:
            return super().wait(timeout)
        self.waiting.append(self)  # before reading `over`, which run_out sets before it reads `waiting`
        if not self.over:
            super().wait()
        return not self.over  # woken only by the task's end or by run_out

    @classmethod
    def run_out(cls) -> None:
        cls.over = True
        for timer in cls.waiting:
            timer.set()


APPROVAL_WAIT = 86_400  # a day: no test waits for it, each makes it run out when it needs to


@pytest.fixture
def approval_wait(function, monkeypatch):
    """The approval's wait, long, ended on the test's cue: `approval_wait.run_out()`."""
    validate = function("ValidateOrderFunction").module("validate_order")
    monkeypatch.setattr(validate, "settings", validate.settings.model_copy(update={"approval_timeout": APPROVAL_WAIT}))
    timer = type("ApprovalWait", (ApprovalWait,), {"waiting": [], "over": False})
    monkeypatch.setattr(execute_state, "threading", SimpleNamespace(Event=timer))
    return timer


@pytest.fixture
def decide_as_the_wait_runs_out(back_office, storefront, local_lambda, approval_wait, monkeypatch):
    """`decide(approved)`: a large order awaiting approval, then staff's decision, to which Step
    Functions answers TaskTimedOut: the approval's wait ran out as staff decided (it runs out
    right after). The order's id and the decision's answer."""
    every_token = lambda *args, **kwargs: True  # noqa: E731
    timed_out = JsonRESTError("TaskTimedOut", "Task Timed Out")

    def decide(approved):
        seed.stock(back_office, "gadget", 40, price=40)
        order_id = seed.order(storefront, LARGE)
        awaiting_approval(local_lambda, back_office, order_id)
        with failing_backend_call(monkeypatch, StepFunctionsParserBackend, "send_task_success", every_token, timed_out):
            decided = back_office.post(f"/orders/{order_id}/approval", {"approved": approved})
        approval_wait.run_out()
        return order_id, decided

    return decide


def test_an_approval_that_meets_a_wait_that_has_just_run_out_is_409_and_the_order_times_out(
    back_office, stack, local_lambda, payments, decide_as_the_wait_runs_out
):
    order_id, decided = decide_as_the_wait_runs_out(True)

    assert (decided.status, decided.body) == (409, {"message": f"order {order_id}: the time to approve it has run out"})
    assert process(local_lambda, stack, order_id)["status"] == "SUCCEEDED"
    order = order_of(back_office, order_id)
    assert (order["status"], order["reason"]) == ("REJECTED", "APPROVAL_TIMEOUT")
    assert seed.quantity(back_office, "gadget") == 40
    assert payments.charges == []
    assert path_of(stack, order_id) == [*AWAITING_APPROVAL, "ApprovalTimedOut", *REJECTED_END]


def test_a_rejection_that_meets_a_wait_that_has_just_run_out_stands(
    back_office, stack, local_lambda, payments, decide_as_the_wait_runs_out
):
    order_id, decided = decide_as_the_wait_runs_out(False)

    assert (decided.status, decided.body["status"], decided.body["reason"]) == (200, "REJECTED", "NOT_APPROVED")
    # A decision without a comment has none, shown or stored.
    approval = {"approved": False, "by": "staff-0001", "at": decided.body["approval"]["at"]}
    assert decided.body["approval"] == approval
    assert table_items(stack, "OrdersTable")[0]["approval"] == approval
    assert seed.quantity(back_office, "gadget") == 40
    assert process(local_lambda, stack, order_id)["status"] == "SUCCEEDED"
    order = order_of(back_office, order_id)
    assert (order["status"], order["reason"]) == ("REJECTED", "NOT_APPROVED")  # staff's, not the timeout's
    assert seed.quantity(back_office, "gadget") == 40
    assert payments.charges == []


def test_no_decision_in_time_rejects_the_order_as_approval_timeout(
    back_office, storefront, stack, local_lambda, payments, approval_wait
):
    seed.stock(back_office, "gadget", 40, price=40)
    order_id = seed.order(storefront, LARGE)
    awaiting_approval(local_lambda, back_office, order_id)
    approval_wait.run_out()

    execution = process(local_lambda, stack, order_id)

    order = order_of(back_office, order_id)
    assert (execution["status"], order["status"], order["reason"]) == ("SUCCEEDED", "REJECTED", "APPROVAL_TIMEOUT")
    assert seed.quantity(back_office, "gadget") == 40
    assert payments.charges == []
    assert path_of(stack, order_id) == [*AWAITING_APPROVAL, "ApprovalTimedOut", *REJECTED_END]
    late = back_office.post(f"/orders/{order_id}/approval", {"approved": True})
    assert late.status == 409
