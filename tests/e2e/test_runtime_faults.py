"""make dev runs functions as Lambda does: a handler past its Timeout is stopped and its async
retries and dead-letter destinations follow; a handler that crashes its process costs that
instance, not the stack; SIGTERM stops the stack cleanly (the `edited` fixture, e2e/conftest.py,
whose copy of the application has the slow and the crashing handler)."""

import requests
from e2e.conftest import failures_of


def test_a_timed_out_async_function_ends_with_its_event_in_its_dlq_after_its_retries(edited):
    staff = edited.token("grace@example.com", "Grace", staff=True)
    created = edited.back_office("POST", "/imports", staff).json()
    uploaded = requests.put(created["upload_url"], data=b"product_id,quantity,price\nwidget,1,1\n", timeout=30)
    assert uploaded.status_code == 200
    dead_letter, record = failures_of(edited, "StartImportDLQ", created["import_id"])

    key = dead_letter["detail"]["object"]["key"]
    assert created["import_id"] in key
    assert record["requestPayload"]["detail"]["object"]["key"] == key
    assert record["requestContext"]["approximateInvokeCount"] == 3
    assert record["responsePayload"]["errorType"] == "Sandbox.Timedout"
    assert record["responsePayload"]["errorMessage"].endswith("Task timed out after 1.00 seconds")
    assert edited.log().count("[StartImportFunction]") >= 3
    # Nothing started it: the import still waits for its file.
    assert edited.back_office("GET", f"/imports/{created['import_id']}", staff).json()["status"] == "WAITING_FOR_FILE"


def test_a_handler_that_crashes_its_process_costs_one_instance_not_the_stack(edited):
    staff = edited.token("grace@example.com", "Grace", staff=True)
    edited.back_office("PUT", "/inventory/sprocket", staff, json={"quantity": 2, "price": 1})

    crashed = edited.storefront("GET", "/products/crash")
    after = edited.storefront("GET", "/products/sprocket")

    # What an HTTP API answers when its Lambda integration fails.
    assert crashed.status_code == 500
    assert crashed.json() == {"message": "Internal Server Error"}
    assert after.status_code == 200
    assert after.json()["quantity"] == 2
    assert "Runtime exited with error: exit status 3" in edited.log()
    assert edited.process.poll() is None
