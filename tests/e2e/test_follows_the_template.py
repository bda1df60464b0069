"""The local stack is made from the template it is given: change a copy of the template, or of the
code, and the running application follows (routes, environment, failures, edits without a restart).
The copy and its changes: the `edited` fixture (e2e/conftest.py)."""

from e2e.conftest import notify_failures

from support.polling import eventually


def test_a_renamed_route_is_served_where_the_template_now_says(edited):
    staff = edited.token("grace@example.com", "Grace", staff=True)
    edited.back_office("PUT", "/inventory/widget", staff, json={"quantity": 1, "price": 1})

    moved = edited.back_office("GET", "/stock/widget", staff)
    old = edited.back_office("GET", "/inventory/widget", staff)

    # The gateway sends /stock/... to BackOfficeFunction, whose own router knows only /inventory/...
    assert moved.status_code == 404
    assert moved.json() == {"message": "no such route"}
    assert old.status_code in (403, 404, 405)
    assert "no such route" not in old.text


def test_a_function_that_fails_ends_with_the_original_event_in_its_dlq_and_on_failure_queue(edited):
    order_id, dead_letter, record, customer = notify_failures(edited)

    assert dead_letter["detail"]["order_id"] == order_id
    assert record["requestPayload"]["detail"]["order_id"] == order_id
    assert record["requestContext"]["approximateInvokeCount"] == 3
    assert "NOTIFY_TOPIC" not in record["responsePayload"]["errorMessage"]
    assert "ORDER_RECEIVED_TOPIC_ARN" in record["responsePayload"]["errorMessage"]
    # The other targets of the rule are not held back: the order still completes.
    status = eventually(
        lambda: edited.storefront("GET", f"/orders/{order_id}", customer).json()["status"] == "CONFIRMED"
    )
    assert status


def test_an_edited_handler_takes_effect_on_the_next_request_without_a_restart(edited):
    staff = edited.token("grace@example.com", "Grace", staff=True)
    shared = edited.project / "src" / "api" / "http_api.py"
    assert edited.back_office("GET", "/stock/x", staff).json()["message"] == "no such route"

    original = shared.read_text()
    shared.write_text(original.replace('"no such route"', '"nothing here"'))
    try:
        assert edited.back_office("GET", "/stock/x", staff).json()["message"] == "nothing here"
        assert edited.process.poll() is None
    finally:  # the module's other tests share this stack, in any order
        shared.write_text(original)
    assert edited.back_office("GET", "/stock/x", staff).json()["message"] == "no such route"
