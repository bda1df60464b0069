"""The tests share one deployed stack per process: its reset (local_stack/reset.py) must leave it as
a fresh deployment would be, whatever the test before did to it."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
from moto.core.models import responses_mock
from moto.sns.models import sns_backends
from moto.stepfunctions.parser.models import stepfunctions_parser_backends

from local_stack.cloudformation.deploy import ACCOUNT_ID, Stack, deploy
from local_stack.cloudformation.template import REGION
from local_stack.moto_patches.speed import definitions_parsed_once
from support import seed
from support.aws import BusCapture, TopicCapture
from support.shared_stack import SHARED_STACK, account_set_aside, empty_account, moto_for_a_test
from support.workflow import process

WAITING = {"StartAt": "Wait", "States": {"Wait": {"Type": "Wait", "Seconds": 3600, "End": True}}}
ROLE = "arn:aws:iam::123456789012:role/test-made"
WAITING_ARN = "arn:aws:states:us-east-1:123456789012:execution:test-made:waits"


def observed(stack: Stack) -> dict[str, Any]:
    """What a client of the account sees, by logical id (physical ids such as pool ids differ
    between two deployments)."""
    template, client = stack.template, stack.client
    tables, functions = (
        sorted(template.of_type("AWS::DynamoDB::Table")),
        sorted(template.of_type("AWS::Lambda::Function")),
    )
    dynamodb, streams, sqs, s3 = client("dynamodb"), client("dynamodbstreams"), client("sqs"), client("s3")
    cognito, sfn, sns, events = client("cognito-idp"), client("stepfunctions"), client("sns"), client("events")
    logs, cloudwatch, awslambda, ses = client("logs"), client("cloudwatch"), client("lambda"), client("ses")

    def stream_records(table: str) -> int:
        arn = stack.get_att(table, "StreamArn")
        if not arn:
            return 0
        [shard] = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON")
        return len(streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"])

    def messages(url: str) -> list[str]:
        names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        return list(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"].values())

    pools = {pool["Name"]: pool["Id"] for pool in cognito.list_user_pools(MaxResults=60)["UserPools"]}
    topic_names = {arn: arn.rsplit(":", 1)[1] for arn in (topic["TopicArn"] for topic in sns.list_topics()["Topics"])}
    buses = [bus["Name"] for bus in events.list_event_buses()["EventBuses"]]
    return {
        "tables": sorted(dynamodb.list_tables()["TableNames"]),
        "items": {table: dynamodb.scan(TableName=stack.ref(table))["Count"] for table in tables},
        "stream records": {table: stream_records(table) for table in tables},
        "queues": {url.rsplit("/", 1)[1]: messages(url) for url in sqs.list_queues().get("QueueUrls", [])},
        "buckets": {
            bucket["Name"]: s3.list_objects_v2(Bucket=bucket["Name"])["KeyCount"]
            for bucket in s3.list_buckets()["Buckets"]
        },
        "users": {name: len(cognito.list_users(UserPoolId=pool_id)["Users"]) for name, pool_id in pools.items()},
        "staff": [
            user["Username"]
            for name, pool_id in pools.items()
            for group in cognito.list_groups(UserPoolId=pool_id)["Groups"]
            for user in cognito.list_users_in_group(UserPoolId=pool_id, GroupName=group["GroupName"])["Users"]
        ],
        "executions": {
            machine["name"]: len(sfn.list_executions(stateMachineArn=machine["stateMachineArn"])["executions"])
            for machine in sfn.list_state_machines()["stateMachines"]
        },
        "subscriptions": sorted(
            (
                topic_names[subscription["TopicArn"]],
                subscription["Protocol"],
                subscription["Endpoint"].rsplit(":", 1)[-1],
            )
            for subscription in sns.list_subscriptions()["Subscriptions"]
        ),
        "notifications": {
            topic.name: len(topic.sent_notifications) for topic in sns_backends[ACCOUNT_ID][REGION].topics.values()
        },
        "emails sent": ses.get_send_quota()["SentLast24Hours"],
        "rules": {
            (bus, rule["Name"]): sorted(
                target["Id"] for target in events.list_targets_by_rule(Rule=rule["Name"], EventBusName=bus)["Targets"]
            )
            for bus in buses
            for rule in events.list_rules(EventBusName=bus)["Rules"]
        },
        "log events": {
            group["logGroupName"]: len(logs.filter_log_events(logGroupName=group["logGroupName"])["events"])
            for group in logs.describe_log_groups()["logGroups"]
        },
        "metrics": len(cloudwatch.list_metrics()["Metrics"]),
        "alarms": {
            alarm["AlarmName"]: (alarm["StateValue"], alarm["StateReason"])
            for alarm in cloudwatch.describe_alarms(MaxRecords=100)["MetricAlarms"]
        },
        "reserved concurrency": {
            function: awslambda.get_function_concurrency(FunctionName=stack.ref(function)).get(
                "ReservedConcurrentExecutions"
            )
            for function in functions
        },
    }


def dirty(stack: Stack) -> None:
    """Change every kind of resource as a test may: add items, messages, objects, users, executions,
    subscriptions, rules and targets, log events, metrics, an alarm's state, a secret's value, a
    function's concurrency, a DynamoDB idempotency token, and resources of its own."""
    client = stack.client
    sqs, sfn, events, cloudwatch = client("sqs"), client("stepfunctions"), client("events"), client("cloudwatch")
    BusCapture(stack, "default", {"source": ["aws.states"]})
    TopicCapture(stack, stack.ref("OrderConfirmedTopic"))
    rule = next(iter(stack.template.of_type("AWS::Events::Rule")))
    bus = stack.resolve(stack.template.properties(rule)).get("EventBusName", "default")
    events.put_targets(
        Rule=stack.ref(rule), EventBusName=bus, Targets=[{"Id": "extra", "Arn": stack.get_att("ShippingQueue", "Arn")}]
    )
    events.create_event_bus(Name="test-made")
    for table in stack.template.of_type("AWS::DynamoDB::Table"):
        description = client("dynamodb").describe_table(TableName=stack.ref(table))["Table"]
        types = {a["AttributeName"]: a["AttributeType"] for a in description["AttributeDefinitions"]}
        item = {key["AttributeName"]: {types[key["AttributeName"]]: "1"} for key in description["KeySchema"]}
        client("dynamodb").put_item(TableName=stack.ref(table), Item=item)
    for queue in stack.template.of_type("AWS::SQS::Queue"):
        fifo = {"MessageGroupId": "g", "MessageDeduplicationId": "d"} if stack.ref(queue).endswith(".fifo") else {}
        sqs.send_message(QueueUrl=stack.ref(queue), MessageBody="dirty", **fifo)
    for bucket in stack.template.of_type("AWS::S3::Bucket"):
        client("s3").put_object(Bucket=stack.ref(bucket), Key="dirty", Body=b"dirty")
    machine = sfn.create_state_machine(name="test-made", definition=json.dumps(WAITING), roleArn=ROLE)
    sfn.start_execution(stateMachineArn=machine["stateMachineArn"], name="waits")
    client("logs").create_log_group(logGroupName="test-made")
    group = stack.ref(next(iter(stack.template.of_type("AWS::Logs::LogGroup"))))
    client("logs").create_log_stream(logGroupName=group, logStreamName="dirty")
    client("logs").put_log_events(
        logGroupName=group, logStreamName="dirty", logEvents=[{"timestamp": 1, "message": "dirty"}]
    )
    cloudwatch.put_metric_data(Namespace="Test", MetricData=[{"MetricName": "Dirty", "Value": 1}])
    alarm = stack.ref(next(iter(stack.template.of_type("AWS::CloudWatch::Alarm"))))
    cloudwatch.set_alarm_state(AlarmName=alarm, StateValue="ALARM", StateReason="dirty")
    cloudwatch.put_metric_alarm(
        AlarmName="test-made", MetricName="Dirty", Namespace="Test", Statistic="Sum", Period=60,
        EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold",
    )  # fmt: skip
    client("secretsmanager").put_secret_value(SecretId=stack.ref("PaymentApiKey"), SecretString="dirty")
    pool = stack.ref("UserPool")
    client("cognito-idp").admin_create_user(UserPoolId=pool, Username="dirty@example.com")
    client("cognito-idp").admin_add_user_to_group(UserPoolId=pool, Username="dirty@example.com", GroupName="staff")
    client("lambda").put_function_concurrency(
        FunctionName=stack.ref("ChargePaymentFunction"), ReservedConcurrentExecutions=0
    )
    for make in (
        lambda: client("dynamodb").create_table(
            TableName="test-made", BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        ),
        lambda: client("s3").create_bucket(Bucket="test-made"),
        lambda: client("sns").create_topic(Name="test-made"),
        lambda: client("cognito-idp").create_user_pool(PoolName="test-made"),
    ):  # fmt: skip
        make()


def token_write(stack: Stack, value: str) -> None:
    """A transaction sent with one idempotency token (DynamoDB refuses the token with other items)."""
    item = {"user_id": {"S": "token"}, "name": {"S": value}}
    client = stack.client("dynamodb")
    client.transact_write_items(
        TransactItems=[{"Put": {"TableName": stack.ref("UsersTable"), "Item": item}}], ClientRequestToken="same-token"
    )


@pytest.mark.usefixtures("payments")
def test_a_reset_stack_is_as_a_fresh_deployment_whatever_the_test_before_did(
    stack, local_lambda, storefront, back_office, aws, sam_template
):
    secret = stack.client("secretsmanager").get_secret_value(SecretId=stack.ref("PaymentApiKey"))["SecretString"]
    seed.stock(back_office, "widget", 5)
    process(local_lambda, stack, seed.order(storefront, {"widget": 1}))  # a customer, an order, its email
    token_write(stack, "first")
    dirty(stack)
    before = observed(stack)
    waiting = stepfunctions_parser_backends[ACCOUNT_ID][REGION].describe_execution(WAITING_ARN)

    assert SHARED_STACK.get(sam_template, aws) is stack  # the fixtures' way: the same stack, reset
    reset = observed(stack)
    assert waiting.exec_status == "ABORTED"  # stopped before it was forgotten: its thread has ended
    token_write(stack, "after the reset")  # a new account knows no token: applied, not a mismatch
    stack.client("s3").create_bucket(Bucket="test-made")  # nor a bucket of that name
    assert (
        stack.client("secretsmanager").get_secret_value(SecretId=stack.ref("PaymentApiKey"))["SecretString"] == secret
    )

    empty_account()
    with definitions_parsed_once():
        fresh = observed(deploy(sam_template, aws))
    assert reset == fresh
    assert [key for key in fresh if before[key] == fresh[key]] == []  # the test changed every kind


def test_a_test_that_wants_an_empty_account_gets_one_and_the_deployed_stack_back_after_it(
    stack, local_lambda, aws, sam_template
):
    """The `aws` fixture without `stack`: an empty account (moto's reset) for the test, and the
    stack kept aside meanwhile, so that the next test reuses it instead of deploying it again."""
    dynamodb = stack.client("dynamodb")
    functions = {spec.name for spec in stack.functions.values()}
    bucket = stack.ref(next(iter(stack.template.of_type("AWS::S3::Bucket"))))
    before = observed(stack)

    with account_set_aside():
        assert dynamodb.list_tables()["TableNames"] == []
        assert dumped_functions() == set()
        dynamodb.create_table(
            TableName="test-made",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        stack.client("s3").create_bucket(Bucket=bucket)  # S3's names are shared by all accounts

    assert "test-made" not in dynamodb.list_tables()["TableNames"]
    assert observed(stack) == before
    assert dumped_functions() == functions
    assert SHARED_STACK.get(sam_template, aws) is stack  # reset, not deployed again


def dumped_functions():
    """The Lambda functions that /moto-api/data.json lists (moto's, in process)."""
    response = requests.get("http://motoapi.amazonaws.com/moto-api/data.json", timeout=10)
    return {function["function_name"] for function in response.json()["awslambda"]["LambdaFunction"]}


def test_tests_that_keep_the_stack_leave_no_url_callbacks_of_moto_behind():
    """Each test's moto registers its callbacks for the `requests` library anew: the count inside a
    test is the same for the hundredth test as for the first."""
    registered = []
    for _ in range(3):
        with moto_for_a_test(shared=True):
            registered.append(len(responses_mock.registered()))
            assert requests.get("https://sqs.us-east-1.amazonaws.com/?Action=ListQueues", timeout=5).status_code == 200

    assert registered[0] > 0
    assert registered == [registered[0]] * 3
    assert responses_mock.registered() == []  # none left once no test's moto is on
