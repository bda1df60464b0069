"""One local stack (`python -m local_stack`, as `make dev` starts it) for the e2e suite, driven over HTTP."""

import json
import shutil
import signal
from collections.abc import Iterator

import pytest

from local_stack.cloudformation.template import PROJECT_ROOT
from support.local_process import LocalStackProcess
from support.polling import eventually


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(items):
    """A module with a stack of its own (another template or code) is one group: one worker, one
    server. The tests of the shared stack are not grouped: each worker that runs one starts its own
    (a session fixture), so that the longest chain of the suite is split over the workers; one
    stack's start-up costs less than running them all after one another (measured)."""
    for item in items:
        if "tests/e2e/" in str(item.fspath) and "local" not in item.fixturenames:
            own = "edited" if "edited" in item.fixturenames else item.module.__name__
            item.add_marker(pytest.mark.xdist_group(f"local-stack-{own}"))


@pytest.fixture(scope="session")
def local(tmp_path_factory) -> Iterator[LocalStackProcess]:
    stack = LocalStackProcess(tmp_path_factory.mktemp("local")).wait_until_ready()
    yield stack
    assert stack.stop() == 0, stack.log()
    assert "Serverless Orders stopped." in stack.log()


GET_STOCK_ROUTE = """        GetStock:
          Type: Api
          Properties:
            RestApiId: !Ref BackOfficeApi
            Path: /inventory/{product_id}"""
NOTIFY_TOPIC = "ORDER_RECEIVED_TOPIC_ARN: !Ref OrderReceivedTopic"
START_IMPORT = "      CodeUri: src/start_import/\n"


def edited_template(text):
    """GetStock's route moved to /stock/...; NotifyFunction's topic under a name its code does not
    read, so that it cannot start (test_follows_the_template.py); StartImportFunction's Timeout 1 s
    (test_runtime_faults.py)."""
    for original in (GET_STOCK_ROUTE, NOTIFY_TOPIC, START_IMPORT):
        assert original in text
    text = text.replace(GET_STOCK_ROUTE, GET_STOCK_ROUTE.replace("/inventory/", "/stock/"))
    text = text.replace(NOTIFY_TOPIC, "NOTIFY_TOPIC: !Ref OrderReceivedTopic")
    return text.replace(START_IMPORT, START_IMPORT + "      Timeout: 1\n")


def edit_code(project, file, original, edited):
    path = project / file
    text = path.read_text()
    assert original in text, f"{file} no longer has what the test changes"
    path.write_text(text.replace(original, edited))


@pytest.fixture(scope="session")
def edited(tmp_path_factory) -> Iterator[LocalStackProcess]:
    """make dev from a copy of the application changed where the shared stack must not be: the
    template as `edited_template` says, a StartImportFunction that takes 3 s and a product page that
    crashes its process for the product `crash` (test_runtime_faults.py). One stack for both modules
    (their xdist group); the copy is its `project`. Stopped by SIGTERM, as a process manager would."""
    project = tmp_path_factory.mktemp("edited")
    copy_project(project, edited_template)
    handler = "def lambda_handler(event: EventBridgeEvent, context: LambdaContext) -> dict[str, Any]:\n"
    edit_code(project, "src/start_import/start_import.py", handler, handler + "    __import__('time').sleep(3)\n")
    page = "def get_product(product_id: Identifier) -> dict[str, Any]:\n"
    crash = "    if product_id == 'crash':\n        __import__('os')._exit(3)\n"
    edit_code(project, "src/api/routers/inventory.py", page, page + crash)
    stack = LocalStackProcess(project, project / "template.yaml").wait_until_ready()
    stack.project = project
    yield stack
    assert stack.stop(how=signal.SIGTERM) == 0, stack.log()
    assert "Serverless Orders stopped." in stack.log()
    assert not stack.outputs_file.exists()


def copy_project(destination, edit_template=lambda text: text):
    """A copy of the application (template, code, layers, definitions) that a test may change."""
    for folder in ("src", "layers", "statemachine"):
        shutil.copytree(PROJECT_ROOT / folder, destination / folder, ignore=shutil.ignore_patterns("__pycache__"))
    template = destination / "template.yaml"
    template.write_text(edit_template((PROJECT_ROOT / "template.yaml").read_text()))
    return template


def failures_of(stack, function_queue, marker, timeout=60.0):
    """What an asynchronously invoked function left after its retries for the event that names
    `marker`: the bare event from its DLQ (`function_queue`) and the invocation record from the
    on-failure queue, each as JSON."""
    sqs = stack.client("sqs")

    def received(queue_logical_id):
        """The messages that name `marker` (other events may have failed the same way)."""
        url = sqs.get_queue_url(QueueName=f"orders-local-{queue_logical_id}")["QueueUrl"]
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        return [message for message in messages if marker in message["Body"]]

    [dead_letter] = eventually(lambda: received(function_queue), timeout=timeout)
    [failure] = eventually(lambda: received("AsyncFailuresQueue"), timeout=timeout)
    return json.loads(dead_letter["Body"]), json.loads(failure["Body"])


def notify_failures(stack, timeout=60.0):
    """Place an order and return it with what the failing NotifyFunction left after its retries
    (`failures_of`), and the customer's token."""
    staff = stack.token("grace@example.com", "Grace", staff=True)
    customer = stack.token("ada@example.com", "Ada")
    stack.back_office("PUT", "/inventory/gadget", staff, json={"quantity": 5, "price": 1})
    body = {"items": [{"product_id": "gadget", "quantity": 1}], "payment_method": "pm_card_visa"}
    order_id = stack.storefront("POST", "/orders", customer, json=body).json()["order_id"]
    return order_id, *failures_of(stack, "NotifyDLQ", order_id, timeout), customer
