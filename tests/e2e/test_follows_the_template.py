"""The local stack is made from the template it is given: change a copy of the template, or of the
code, and the running application follows (routes, environment, failures, edits without a restart)."""

import pytest
from e2e.conftest import copy_project, eventually, notify_failures

from support.local_process import LocalStackProcess

GET_STOCK_ROUTE = """        GetStock:
          Type: Api
          Properties:
            RestApiId: !Ref BackOfficeApi
            Path: /inventory/{product_id}"""


def changed_template(text):
    assert GET_STOCK_ROUTE in text
    assert "ORDER_RECEIVED_TOPIC_ARN: !Ref OrderReceivedTopic" in text
    text = text.replace(GET_STOCK_ROUTE, GET_STOCK_ROUTE.replace("/inventory/", "/stock/"))
    # NotifyFunction's code reads ORDER_RECEIVED_TOPIC_ARN: under another name it cannot start.
    return text.replace("ORDER_RECEIVED_TOPIC_ARN: !Ref OrderReceivedTopic", "NOTIFY_TOPIC: !Ref OrderReceivedTopic")


@pytest.fixture(scope="module")
def changed(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("changed")
    template = copy_project(workdir, changed_template)
    stack = LocalStackProcess(workdir, template).wait_until_ready()
    stack.workdir = workdir
    yield stack
    assert stack.stop() == 0, stack.log()


def test_a_renamed_route_is_served_where_the_template_now_says(changed):
    staff = changed.token("grace@example.com", "Grace", staff=True)
    changed.back_office("PUT", "/inventory/widget", staff, json={"quantity": 1, "price": 1})

    moved = changed.back_office("GET", "/stock/widget", staff)
    old = changed.back_office("GET", "/inventory/widget", staff)

    # The gateway sends /stock/... to BackOfficeFunction, whose own router knows only /inventory/...
    assert moved.status_code == 404
    assert moved.json() == {"message": "no such route"}
    assert old.status_code in (403, 404, 405)
    assert "no such route" not in old.text


def test_a_function_that_fails_ends_with_the_original_event_in_its_dlq_and_on_failure_queue(changed):
    order_id, dead_letter, record, customer = notify_failures(changed)

    assert dead_letter["detail"]["order_id"] == order_id
    assert record["requestPayload"]["detail"]["order_id"] == order_id
    assert record["requestContext"]["approximateInvokeCount"] == 3
    assert "NOTIFY_TOPIC" not in record["responsePayload"]["errorMessage"]
    assert "ORDER_RECEIVED_TOPIC_ARN" in record["responsePayload"]["errorMessage"]
    # The other targets of the rule are not held back: the order still completes.
    status = eventually(
        lambda: changed.storefront("GET", f"/orders/{order_id}", customer).json()["status"] == "CONFIRMED"
    )
    assert status


def test_an_edited_handler_takes_effect_on_the_next_request_without_a_restart(changed):
    staff = changed.token("grace@example.com", "Grace", staff=True)
    shared = changed.workdir / "src" / "api" / "http_api.py"
    assert changed.back_office("GET", "/stock/x", staff).json()["message"] == "no such route"

    original = shared.read_text()
    shared.write_text(original.replace('"no such route"', '"nothing here"'))
    try:
        assert changed.back_office("GET", "/stock/x", staff).json()["message"] == "nothing here"
        assert changed.process.poll() is None
    finally:  # the module's other tests share this stack, in any order
        shared.write_text(original)
    assert changed.back_office("GET", "/stock/x", staff).json()["message"] == "no such route"
