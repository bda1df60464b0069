"""Fixtures of the workflow tests: what the order workflow publishes, as its subscribers see it."""

from collections.abc import Callable
from typing import Any

import pytest

from local_stack.cloudformation.deploy import Stack
from support.aws import TopicCapture, drain_queue


@pytest.fixture
def confirmations(stack: Stack) -> TopicCapture:
    return TopicCapture(stack, stack.ref("OrderConfirmedTopic"))


@pytest.fixture
def shipping(stack: Stack) -> Callable[[], list[dict[str, Any]]]:
    """Every message handed to shipping so far (taken off the queue)."""
    return lambda: drain_queue(stack, stack.ref("ShippingQueue"))
