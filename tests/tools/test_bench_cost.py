"""The cost model that `make bench` prints: each line of the bill from what was counted, at the
prices of its one table (so that the figures in docs/performance.md can be trusted to the cent)."""

import pytest

from tools.benchmarks.cost import PRICES, Usage, as_express, cost, warm_start_options


def test_each_counted_request_is_priced_by_its_own_unit():
    usage = Usage(
        api_requests={"HTTP API request": 1, "REST API request": 1},
        lambda_runs=[(512, 99.2), (1024, 1000.0)],  # billed per started millisecond
        calls=[
            ("GetItem", {"TableName": "t"}),  # eventually consistent: half a read unit
            ("BatchGetItem", {"RequestItems": {"t": {"Keys": [{}, {}, {}], "ConsistentRead": True}}}),
            ("TransactWriteItems", {"TransactItems": [{}, {}]}),  # two write units per item
            ("UpdateItem", {}),
            ("PutEvents", {"Entries": [{}, {}]}),
            ("Publish", {}),
            ("SendMessage", {}),
            ("SendEmail", {}),
            ("GetSecretValue", {}),
            ("DescribeTable", {}),  # free
        ],
        state_transitions=10,
        log_bytes=2_000_000_000,
    )

    bill = cost(usage)

    assert bill == {
        "HTTP API request": pytest.approx(PRICES["HTTP API request"]),
        "REST API request": pytest.approx(PRICES["REST API request"]),
        "Lambda request": pytest.approx(2 * PRICES["Lambda request"]),
        "Lambda GB-second (arm64)": pytest.approx((0.5 * 0.1 + 1.0 * 1.0) * PRICES["Lambda GB-second (arm64)"]),
        "DynamoDB read request unit": pytest.approx(3.5 * PRICES["DynamoDB read request unit"]),
        "DynamoDB write request unit": pytest.approx(5 * PRICES["DynamoDB write request unit"]),
        "EventBridge event": pytest.approx(2 * PRICES["EventBridge event"]),
        "SNS publish": pytest.approx(PRICES["SNS publish"]),
        "SQS request": pytest.approx(PRICES["SQS request"]),
        "SES email": pytest.approx(PRICES["SES email"]),
        "Secrets Manager call": pytest.approx(PRICES["Secrets Manager call"]),
        "Standard state transition": pytest.approx(10 * PRICES["Standard state transition"]),
        "CloudWatch Logs GB ingested": pytest.approx(2 * PRICES["CloudWatch Logs GB ingested"]),
    }


@pytest.mark.parametrize(("seconds", "billed_ms"), [(0.0, 100), (0.1, 100), (0.101, 200), (2.35, 2400)])
def test_as_an_express_workflow_the_duration_is_billed_in_100_ms_steps_instead_of_transitions(seconds, billed_ms):
    express = as_express(Usage(state_transitions=10), seconds)

    assert (express.state_transitions, express.express_runs) == (0, [(64, billed_ms)])
    assert cost(express) == {
        "Express request": pytest.approx(PRICES["Express request"]),
        "Express GB-second": pytest.approx(64 / 1024 * billed_ms / 1000 * PRICES["Express GB-second"]),
    }


def test_fast_starts_are_priced_per_month_of_a_warm_instance_or_snapshot_and_per_restore():
    # 512 MB: 0.5 GB for 2,592,000 s, or a million restores of 0.5 GB.
    assert warm_start_options(512) == {
        "provisioned concurrency, one instance, a month": pytest.approx(0.5 * 2_592_000 * 0.0000033334),
        "SnapStart snapshot, a month": pytest.approx(0.5 * 2_592_000 * 0.0000015046),
        "SnapStart, a million restores": pytest.approx(0.5 * 1e6 * 0.0001397998),
    }
