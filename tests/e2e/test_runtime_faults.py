"""make dev runs functions as Lambda does: a handler past its Timeout is stopped and its async
retries and dead-letter destinations follow; a handler that crashes its process costs that
instance, not the stack; SIGTERM stops the stack cleanly."""

import signal

import pytest
from e2e.conftest import copy_project, notify_failures

from support.local_process import LocalStackProcess

NOTIFY = "      CodeUri: src/notify/\n"


def slow_notify(text):
    assert NOTIFY in text
    return text.replace(NOTIFY, NOTIFY + "      Timeout: 1\n")


@pytest.fixture(scope="module")
def faulty(tmp_path_factory):
    """The application with a notify handler that takes 3 s (its Timeout is 1 s) and a product page
    that crashes its process for the product `crash`."""
    workdir = tmp_path_factory.mktemp("faulty")
    copy_project(workdir, slow_notify)
    notify = workdir / "src" / "notify" / "notify.py"
    notify.write_text(
        notify.read_text().replace(
            "    order = Order.model_validate(", "    __import__('time').sleep(3)\n    order = Order.model_validate("
        )
    )
    inventory = workdir / "src" / "api" / "routers" / "inventory.py"
    inventory.write_text(
        inventory.read_text().replace(
            "def get_product(product_id: Identifier) -> dict[str, Any]:\n",
            "def get_product(product_id: Identifier) -> dict[str, Any]:\n"
            "    if product_id == 'crash':\n        __import__('os')._exit(3)\n",
        )
    )
    stack = LocalStackProcess(workdir, workdir / "template.yaml").wait_until_ready()
    yield stack
    assert stack.stop(how=signal.SIGTERM) == 0, stack.log()
    assert "Serverless Orders stopped." in stack.log()
    assert not stack.outputs_file.exists()


def test_a_timed_out_async_function_ends_with_its_event_in_its_dlq_after_its_retries(faulty):
    order_id, dead_letter, record, _ = notify_failures(faulty)

    assert dead_letter["detail"]["order_id"] == order_id
    assert record["requestPayload"]["detail"]["order_id"] == order_id
    assert record["requestContext"]["approximateInvokeCount"] == 3
    assert record["responsePayload"]["errorType"] == "Sandbox.Timedout"
    assert record["responsePayload"]["errorMessage"].endswith("Task timed out after 1.00 seconds")
    assert faulty.log().count("[NotifyFunction]") >= 3


def test_a_handler_that_crashes_its_process_costs_one_instance_not_the_stack(faulty):
    staff = faulty.token("grace@example.com", "Grace", staff=True)
    faulty.back_office("PUT", "/inventory/widget", staff, json={"quantity": 2, "price": 1})

    crashed = faulty.storefront("GET", "/products/crash")
    after = faulty.storefront("GET", "/products/widget")

    # What an HTTP API answers when its Lambda integration fails.
    assert crashed.status_code == 500
    assert crashed.json() == {"message": "Internal Server Error"}
    assert after.status_code == 200
    assert after.json()["quantity"] == 2
    assert "Runtime exited with error: exit status 3" in faulty.log()
    assert faulty.process.poll() is None
