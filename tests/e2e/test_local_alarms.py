"""make dev's CloudWatch, as an operator sees it: the template's alarms through `describe-alarms` at
AwsEndpointUrl, evaluated, and a line in the log for each change of state."""

import re

from local_stack.cloudformation.template import load
from support.polling import eventually


def test_the_alarms_are_listed_evaluated_and_each_change_is_printed(local):
    cloudwatch, sqs, lambda_ = local.client("cloudwatch"), local.client("sqs"), local.client("lambda")

    def states():
        pages = cloudwatch.get_paginator("describe_alarms").paginate()
        return {alarm["AlarmName"]: alarm["StateValue"] for page in pages for alarm in page["MetricAlarms"]}

    template_alarms = {f"orders-local-{logical_id}" for logical_id in load().of_type("AWS::CloudWatch::Alarm")}
    listed = states()
    assert template_alarms <= set(listed)
    assert {listed[name] for name in template_alarms} <= {"OK", "ALARM"}  # every one evaluated
    dead_letters, throttles = "orders-local-ShippingDLQAlarm", "orders-local-LambdaThrottlesAlarm"
    assert listed[dead_letters] == listed[throttles] == "OK"

    url = sqs.get_queue_url(QueueName="orders-local-ShippingDLQ")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody='{"order_id": "dead-letter"}')
    # Lambda refuses an invocation of any function (here its reserved concurrency is 0): the
    # account-level Throttles, which has no dimension, fires the one throttles alarm.
    function = "orders-local-AnalyticsFunction"
    lambda_.put_function_concurrency(FunctionName=function, ReservedConcurrentExecutions=0)
    try:
        lambda_.invoke(FunctionName=function, Payload=b"{}")
    finally:
        lambda_.delete_function_concurrency(FunctionName=function)
    assert eventually(lambda: states()[dead_letters] == states()[throttles] == "ALARM", timeout=30)
    sqs.purge_queue(QueueUrl=url)  # back to OK once the minute of that datapoint is over

    log = local.log()
    assert f"[alarm] {len(listed)} alarms of the template evaluated: {len(listed)} OK" in log  # one line at start
    for name in (dead_letters, throttles):
        changes = re.findall(rf"\[alarm\] \d\d:\d\d:\d\d {name}: (\w+) → (\w+) \((.*)\)", log)
        assert [(old, new) for old, new, _ in changes][:1] == [("OK", "ALARM")], name  # then OK, once over
        assert changes[0][2].startswith("Threshold Crossed: 1 out of the last 1 datapoints [1.0 ("), name
