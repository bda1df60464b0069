"""The application served by the local stack, over HTTP with real tokens of the local user pool,
as a customer, a member of staff and an operator see it."""

import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest
import requests
from botocore.config import Config

from support.polling import eventually
from tools import redrive

TERMINAL = {"CONFIRMED", "REJECTED", "FAILED"}


@pytest.fixture(scope="module")
def staff(local):
    return local.token("grace@example.com", "Grace", staff=True)


@pytest.fixture(scope="module")
def ada(local):
    return local.token("ada@example.com", "Ada")


def new_product(local, staff, quantity, price=10.0):
    product_id = f"p-{uuid.uuid4().hex[:10]}"
    response = local.back_office("PUT", f"/inventory/{product_id}", staff, json={"quantity": quantity, "price": price})
    assert response.status_code == 200
    return product_id


def place(local, token, lines, key=None, timeout=30):
    body = {"items": [{"product_id": p, "quantity": q} for p, q in lines.items()], "payment_method": "pm_card_visa"}
    headers = {"Idempotency-Key": key} if key else {}
    return local.storefront("POST", "/orders", token, json=body, headers=headers, timeout=timeout)


def final(local, token, order_id, timeout=90.0):
    """The order once terminal (generous: a first order starts each function's first instance)."""

    def terminal():
        order = local.storefront("GET", f"/orders/{order_id}", token).json()
        return order if order["status"] in TERMINAL else None

    order = eventually(terminal, timeout)
    assert order, f"order {order_id} did not reach a terminal status"
    return order


def stock_of(local, staff, product_id):
    return local.back_office("GET", f"/inventory/{product_id}", staff).json()["quantity"]


def messages_about(local, queue_url, order_id):
    sqs = local.client("sqs")
    found = []
    for _ in range(5):
        for message in sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
            if order_id in message["Body"]:
                found.append(message)
    return found


@pytest.fixture(scope="module")
def confirmations(local):
    """A queue of the test's own, subscribed to the order-confirmed topic."""
    sqs = local.client("sqs")
    url = sqs.create_queue(QueueName="e2e-confirmations")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    local.client("sns").subscribe(TopicArn=local.outputs["OrderConfirmedTopicArn"], Protocol="sqs", Endpoint=arn)
    return url


def test_the_quick_start_signs_up_orders_and_confirms_with_auth_enforced(local, staff, confirmations):
    """README's quick start: a customer signs up, gets a token, orders; the order is confirmed."""
    lin = local.token("lin@example.com", "Lin")
    product_id = new_product(local, staff, 5, price=19.99)

    me = local.storefront("GET", "/me", lin)
    order = place(local, lin, {product_id: 2})
    confirmed = final(local, lin, order.json()["order_id"])

    assert me.status_code == 200
    assert me.json()["email"] == "lin@example.com"
    assert me.json()["name"] == "Lin"
    assert order.status_code == 202
    assert confirmed["user_id"] == me.json()["user_id"]
    assert (confirmed["status"], confirmed["total"]) == ("CONFIRMED", 39.98)
    assert stock_of(local, staff, product_id) == 3
    assert place(local, None, {product_id: 1}).status_code == 401
    assert stock_of(local, staff, product_id) == 3


def test_every_route_follows_the_contract(local, staff, ada):
    user = local.back_office("POST", "/users", staff, json={"name": "Hopper", "email": "hopper@example.com"})
    assert user.status_code == 201
    assert user.headers["Content-Type"].startswith("application/json")
    user_id = user.json()["user_id"]
    assert local.back_office("GET", f"/users/{user_id}", staff).json() == user.json()
    assert local.back_office("GET", "/users/nobody", staff).status_code == 404
    again = local.back_office("POST", "/users", staff, json={"name": "Hopper", "email": "hopper@example.com"})
    assert again.status_code == 409

    product = local.back_office("PUT", "/inventory/e2e-widget", staff, json={"quantity": 3, "price": 2.5})
    assert product.json() == {"product_id": "e2e-widget", "quantity": 3, "price": 2.5}
    assert local.back_office("GET", "/inventory/e2e-widget", staff).json() == product.json()
    assert local.storefront("GET", "/products/e2e-widget").json() == product.json()
    assert local.back_office("GET", "/inventory/nothing", staff).status_code == 404

    order = place(local, ada, {"e2e-widget": 1})
    assert order.status_code == 202
    order_id = order.json()["order_id"]
    assert order.json() == {"order_id": order_id, "status": "PENDING"}
    fetched = local.storefront("GET", f"/orders/{order_id}", ada).json()
    assert set(fetched) >= {"order_id", "user_id", "items", "status", "created_at", "updated_at"}
    assert "payment_method" not in fetched
    assert local.back_office("GET", f"/orders/{order_id}", staff).json()["order_id"] == order_id
    listed = local.storefront("GET", "/orders?limit=100", ada).json()
    assert order_id in [item["order_id"] for item in listed["items"]]
    assert local.storefront("GET", f"/orders/{uuid.uuid4()}", ada).status_code == 404


def test_an_order_is_confirmed_with_stock_taken_one_shipment_and_one_notification(local, staff, ada, confirmations):
    product_id = new_product(local, staff, 5, price=19.99)

    order_id = place(local, ada, {product_id: 2}).json()["order_id"]
    order = final(local, ada, order_id)

    assert order["status"] == "CONFIRMED"
    assert order["total"] == 39.98
    assert stock_of(local, staff, product_id) == 3
    [shipment] = messages_about(local, local.outputs["ShippingQueueUrl"], order_id)
    assert json.loads(shipment["Body"])["items"][0]["product_id"] == product_id
    # Published after CONFIRMED is written (the workflow's last steps): wait for it as a subscriber would.
    [notification] = eventually(lambda: messages_about(local, confirmations, order_id), 30)
    assert json.loads(json.loads(notification["Body"])["Message"])["order_id"] == order_id


def test_an_order_beyond_the_stock_is_rejected_and_takes_nothing(local, staff, ada):
    product_id = new_product(local, staff, 1)

    order = final(local, ada, place(local, ada, {product_id: 2}).json()["order_id"])

    assert (order["status"], order["reason"]) == ("REJECTED", "OUT_OF_STOCK")
    assert stock_of(local, staff, product_id) == 1
    assert messages_about(local, local.outputs["ShippingQueueUrl"], order["order_id"]) == []


def test_an_order_for_an_unknown_product_is_rejected_as_invalid(local, staff, ada):
    order = final(local, ada, place(local, ada, {"never-stocked": 1}).json()["order_id"])

    assert (order["status"], order["reason"]) == ("REJECTED", "VALIDATION_FAILED")


def test_retries_with_the_same_idempotency_key_create_one_order(local, staff, ada):
    product_id = new_product(local, staff, 5)

    responses = [place(local, ada, {product_id: 1}, key="e2e-key-1") for _ in range(3)]
    conflicting = place(local, ada, {product_id: 2}, key="e2e-key-1")

    assert {r.status_code for r in responses} == {202}
    assert len({r.json()["order_id"] for r in responses}) == 1
    assert conflicting.status_code == 422
    final(local, ada, responses[0].json()["order_id"])
    assert stock_of(local, staff, product_id) == 4


def test_twenty_concurrent_orders_on_a_stock_of_five_confirm_exactly_five(local, staff, ada):
    product_id = new_product(local, staff, 5)

    with ThreadPoolExecutor(max_workers=20) as pool:
        placed = list(pool.map(lambda _: place(local, ada, {product_id: 1}), range(20)))
    assert {response.status_code for response in placed} == {202}
    outcomes = [final(local, ada, response.json()["order_id"], timeout=90)["status"] for response in placed]

    assert outcomes.count("CONFIRMED") == 5
    assert outcomes.count("REJECTED") == 15
    assert stock_of(local, staff, product_id) == 0


@pytest.mark.parametrize(
    ("api", "method", "path", "body"),
    [
        ("back_office", "POST", "/users", '{"name": "x"'),
        ("back_office", "POST", "/users", '{"name": "x", "email": "nope"}'),
        ("storefront", "POST", "/orders", '{"items": [], "payment_method": "pm"}'),
        ("storefront", "POST", "/orders", '{"items": [{"product_id": "p", "quantity": "1"}], "payment_method": "pm"}'),
        ("storefront", "POST", "/orders", '{"user_id": "u", "items": [{"product_id": "p", "quantity": 1}]}'),
        ("back_office", "PUT", "/inventory/p1", '{"quantity": -1, "price": 1}'),
        ("back_office", "PUT", "/inventory/p1", "[]"),
        ("back_office", "GET", "/orders/" + "x" * 200, None),
        ("storefront", "GET", "/orders/%F0%9F%98%80", None),
        ("storefront", "GET", "/orders?next=garbage", None),
    ],
)
def test_bad_input_is_a_4xx_json_error_and_the_server_stays_healthy(local, staff, ada, api, method, path, body):
    token = staff if api == "back_office" else ada
    call = getattr(local, api)
    response = call(method, path, token, data=body, headers={"Content-Type": "application/json"})

    assert 400 <= response.status_code < 500
    assert isinstance(response.json()["message"], str)
    assert local.back_office("GET", "/users/still-alive", staff).status_code == 404


def test_a_forged_log_line_cannot_be_written_through_an_id(local, ada):
    local.storefront("GET", "/orders/x%0A[workflow]%20forged%20SUCCEEDED", ada)

    assert "\n[workflow] forged" not in local.log()
    assert not any(line.startswith("[workflow] forged") for line in local.log().splitlines())


def test_business_outcomes_leave_one_line_per_execution_and_no_traceback(local, staff, ada):
    product_id = new_product(local, staff, 1)
    order = final(local, ada, place(local, ada, {product_id: 2}).json()["order_id"])

    assert order["reason"] == "OUT_OF_STOCK"

    def reported():
        return [line for line in local.log().splitlines() if line.startswith(f"[workflow] {order['order_id']}")]

    # The order's execution and its steps' (Express) execution: one line each, the order's once it ended.
    assert eventually(lambda: any(line.startswith(f"[workflow] {order['order_id']} ") for line in reported()), 5)
    assert [line.split(" ")[1] for line in reported()] == [f"{order['order_id']}-order-0", order["order_id"]]
    log = local.log()
    assert "Traceback" not in log, log[max(0, log.find("Traceback") - 500) :][:4000]


def test_concurrent_duplicates_of_one_request_see_the_409_that_aws_gives(local, staff):
    """Instances run concurrently: while the first request holds the Idempotency-Key, the others
    are told it is in progress; none creates a second order."""
    racer = local.token("racer@example.com", "Racer")
    product_id = new_product(local, staff, 100)
    # 50 requests at once on two cores wait for instances to start: what is asserted is the answers,
    # not how soon they come (a busy machine took over 30 s).
    burst = 120
    keys = ["warm-up"]
    with ThreadPoolExecutor(max_workers=50) as pool:
        # Warm instances first, as under steady traffic (a first request also sets up idempotency).
        warm_up = set(pool.map(lambda _: place(local, racer, {product_id: 1}, "warm-up", burst).status_code, range(50)))
        assert warm_up <= {202, 409}
        # Whether any duplicate arrives while the first holds the key is up to the scheduler: on a
        # loaded machine a burst can come one request after another (each then answered from the
        # completed record, 202). Each burst has a key of its own; every one must hold the invariants.
        conflicts = []
        while not conflicts and len(keys) <= 5:
            keys.append(key := f"one-click-{len(keys)}")
            responses = list(pool.map(lambda _: place(local, racer, {product_id: 1}, key, burst), range(50)))
            statuses = [response.status_code for response in responses]
            assert set(statuses) <= {202, 409}
            assert {response.json()["order_id"] for response in responses if response.status_code == 202} == {
                responses[statuses.index(202)].json()["order_id"]
            }
            conflicts = [response.json() for response in responses if response.status_code == 409]

    assert conflicts, f"no duplicate of {len(keys) - 1} bursts arrived while the first held its key"
    assert conflicts[0] == {"message": "a request with this Idempotency-Key is still in progress"}
    listed = local.storefront("GET", "/orders?limit=100", racer).json()["items"]
    assert len(listed) == len(keys)  # one order for each key


def test_staff_price_a_cart_in_one_round_trip_through_the_gateway_and_the_quote_workflow(local, staff, ada):
    """POST /quotes as the README shows it: no function in front, real tokens, the local gateway's
    mapping templates and StartSyncExecution of the Express workflow."""
    cheap = new_product(local, staff, 10, price=2.5)
    short = new_product(local, staff, 1, price=19.99)
    cart = {"items": [{"product_id": cheap, "quantity": 3}, {"product_id": short, "quantity": 2}]}

    quote = local.back_office("POST", "/quotes", staff, json=cart)
    customer = local.back_office("POST", "/quotes", ada, json=cart)
    anonymous = local.back_office("POST", "/quotes", None, json=cart)
    invalid = local.back_office("POST", "/quotes", staff, json={"items": [{"product_id": cheap, "quantity": 1001}]})
    form = local.back_office("POST", "/quotes", staff, data="items=1", headers={"Content-Type": "text/plain"})
    preflight = local.back_office("OPTIONS", "/quotes", None, headers={"Origin": "https://shop.example.com"})

    assert quote.status_code == 200, quote.text
    assert quote.json() == {
        "items": [
            {"product_id": cheap, "quantity": 3, "unit_price": 2.5, "line_total": 7.5, "available": True},
            {"product_id": short, "quantity": 2, "unit_price": 19.99, "line_total": 39.98, "available": False},
        ],
        "total": 47.48,
        "approval_required": False,
    }
    assert quote.headers["Access-Control-Allow-Origin"] == "*"
    assert (customer.status_code, customer.json()["message"]) == (
        403,
        "only members of the staff group may use the back office",
    )
    assert (anonymous.status_code, anonymous.json()) == (401, {"message": "Unauthorized"})
    assert invalid.status_code == 422
    assert invalid.json()["details"] == [
        {"location": "body.items.0.quantity", "message": "Input should be less than or equal to 1000"}
    ]
    assert (form.status_code, form.json()) == (415, {"message": "Unsupported Media Type"})
    assert preflight.status_code == 200
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert stock_of(local, staff, short) == 1  # a quote reserves nothing


def test_the_quote_workflow_answers_start_sync_execution_from_the_aws_cli_as_the_readme_shows(local):
    """What API Gateway does, done by hand against the AWS endpoint (README): the host prefix off."""
    sfn = local.client("stepfunctions", config=Config(inject_host_prefix=False))
    body = json.dumps({"items": [{"product_id": "widget-1", "quantity": 2}]})

    answer = sfn.start_sync_execution(
        stateMachineArn=local.outputs["QuoteWorkflowArn"],
        input=json.dumps({"body": body, "groups": "staff", "requestId": "cli"}),
    )

    assert answer["status"] == "SUCCEEDED"
    output = json.loads(answer["output"])
    assert output["statusCode"] == 200
    assert json.loads(output["body"])["items"][0]["line_total"] == 39.98  # the demo data's widget-1


def test_staff_import_a_csv_through_the_presigned_url_and_follow_it_to_the_end(local, staff, ada):
    """README's import: POST /imports, PUT the file to the local S3 endpoint, S3 → EventBridge →
    the import workflow and its nested chunk workflows, GET /imports/{id} until it ends."""
    prefix = f"imp-{uuid.uuid4().hex[:8]}"
    rows = [f"{prefix}-{n},{n},1.50" for n in range(1, 2_501)] + [f"{prefix}-x,-1,1"]
    created = local.back_office("POST", "/imports", staff)
    assert created.status_code == 201
    body = created.json()
    assert body["upload_url"].startswith(local.outputs["AwsEndpointUrl"])
    assert local.back_office("POST", "/imports", ada).status_code == 403

    data = ("product_id,quantity,price\n" + "\n".join(rows) + "\n").encode()
    uploaded = requests.put(body["upload_url"], data=data, headers={"Content-Type": "text/csv"}, timeout=30)
    assert uploaded.status_code == 200

    def ended():
        progress = local.back_office("GET", f"/imports/{body['import_id']}", staff).json()
        return progress if progress["status"] not in ("WAITING_FOR_FILE", "RUNNING") else None

    progress = eventually(ended, 120)
    assert progress, "the import did not end"
    assert {
        key: progress[key] for key in ("status", "rows_total", "rows_imported", "rows_rejected", "chunks_done")
    } == {
        "status": "COMPLETED_WITH_ERRORS",
        "rows_total": 2_501,
        "rows_imported": 2_500,
        "rows_rejected": 1,
        "chunks_done": 3,
    }
    assert progress["errors"] == [{"row": 2_501, "message": "quantity: must be a whole number from 0"}]
    report = requests.get(progress["report_url"], timeout=10)
    assert (
        report.text
        == f"row,product_id,quantity,price,error\n2501,{prefix}-x,-1,1,quantity: must be a whole number from 0\n"
    )
    assert local.back_office("GET", f"/inventory/{prefix}-2500", staff).json() == {
        "product_id": f"{prefix}-2500",
        "quantity": 2500,
        "price": 1.5,
    }
    assert local.back_office("GET", f"/imports/{body['import_id']}", ada).status_code == 403


def test_make_redrive_lists_every_dead_letter_queue_of_the_running_stack(local, capsys):
    """The operator's view through make dev's AWS endpoint: each queue, its depth, what feeds it."""
    assert redrive.main(["--outputs-file", str(local.outputs_file), "list"]) == 0

    listed = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()}
    assert set(listed) == {letters.queue for letters in redrive.dead_letter_queues(redrive.load())}
    sqs = local.client("sqs")
    url = sqs.get_queue_url(QueueName="orders-local-ProcessOrderDLQ")["QueueUrl"]
    depth = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]
    assert listed["ProcessOrderDLQ"].split()[1] == depth["ApproximateNumberOfMessages"]
    assert listed["ProcessOrderDLQ"].endswith("function: ProcessOrderFunction")
    assert listed["AnalyticsDLQ"].endswith("queue: AnalyticsQueue")

    # Uploads whose import did not start: none here, so a dry run has nothing to do.
    assert redrive.main(["--outputs-file", str(local.outputs_file), "replay", "StartImportDLQ", "--dry-run"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "0 of 0 replayed (dry run)"


def test_every_listener_of_make_dev_is_on_loopback(local):
    """The APIs, moto (with its admin API: the user pool, the payment key's secret, /moto-api/reset)
    and the payment fake: nothing of make dev or its workers listens beyond 127.0.0.1."""
    listening = local.listening_sockets()

    served = ("StorefrontApiUrl", "BackOfficeApiUrl", "AwsEndpointUrl", "PaymentProviderUrl")
    ports = {urlsplit(local.outputs[name]).port for name in served}
    assert len(ports) == len(served)
    assert {port for _, port in listening} >= ports
    assert {address for address, _ in listening} == {"127.0.0.1"}, sorted(listening)
