"""The event-driven part of the template: nothing an async path carries can be lost."""

import json
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from local_stack.cloudformation.template import PROJECT_ROOT
from support.templates import gets_att, lambda_targets

STATELINT = Path(sys.executable).with_name("statelint")
ASL_FILES = sorted((PROJECT_ROOT / "statemachine").glob("*.asl.json"))


def invoke_config(sam_template, function_id):
    [config] = [
        resource["Properties"]
        for resource in sam_template.of_type("AWS::Lambda::EventInvokeConfig").values()
        if resource["Properties"]["FunctionName"] == {"Ref": function_id}
    ]
    return config


def test_the_order_created_rule_targets_the_workflow_starter_notifications_and_analytics(sam_template):
    properties = sam_template.properties("OrderCreatedRule")
    assert properties["EventPattern"] == {"source": ["orders.api"], "detail-type": ["OrderCreated"]}
    targets = {target["Id"]: target for target in properties["Targets"]}
    assert set(targets) == {"ProcessOrder", "Notify", "Analytics"}
    assert targets["Analytics"]["SqsParameters"]["MessageGroupId"]
    assert sam_template.properties("AnalyticsQueue")["FifoQueue"] is True


def test_every_rule_target_retries_for_at_least_an_hour_and_has_a_dead_letter_queue(sam_template):
    """A target that is down for less than an hour (a deployment, a throttled function) loses
    nothing: EventBridge keeps the event and retries it."""
    for rule in sam_template.of_type("AWS::Events::Rule").values():
        for target in rule["Properties"]["Targets"]:
            assert target["RetryPolicy"]["MaximumRetryAttempts"] >= 20, target["Id"]
            assert target["RetryPolicy"]["MaximumEventAgeInSeconds"] >= 3600, target["Id"]
            assert "Fn::GetAtt" in target["DeadLetterConfig"]["Arn"], target["Id"]


def rules_sending_to_each_queue(sam_template):
    """The rules that deliver to a queue: as their target, or as a target's dead-letter queue."""
    senders = defaultdict(set)
    for rule_id, rule in sam_template.of_type("AWS::Events::Rule").items():
        for target in rule["Properties"]["Targets"]:
            for arn in (target["Arn"], target["DeadLetterConfig"]["Arn"]):
                queue = gets_att(arn)
                if sam_template.resources.get(queue, {}).get("Type") == "AWS::SQS::Queue":
                    senders[queue].add(rule_id)
    return senders


def test_queue_policies_let_only_the_rules_that_deliver_there_send_and_do_nothing_else(sam_template):
    """Without the SourceArn condition any rule of any account could fill the queue (a confused
    deputy); any action beyond SendMessage would let EventBridge read, purge or delete it."""
    senders = rules_sending_to_each_queue(sam_template)
    covered = set()
    for name, policy in sam_template.of_type("AWS::SQS::QueuePolicy").items():
        queues = {queue["Ref"] for queue in policy["Properties"]["Queues"]}
        [statement] = policy["Properties"]["PolicyDocument"]["Statement"]
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        rules = sorted(set().union(*(senders[queue] for queue in queues)))
        sources = [{"Fn::GetAtt": [rule, "Arn"]} for rule in rules]
        assert (statement["Effect"], statement["Principal"]) == ("Allow", {"Service": "events.amazonaws.com"}), name
        assert statement["Action"] == "sqs:SendMessage", name
        assert {gets_att(resource) for resource in resources} == queues, name
        assert statement["Condition"] == {"ArnEquals": {"aws:SourceArn": sources[0] if len(sources) == 1 else sources}}
        covered |= queues
    assert covered == set(senders)


def test_every_asynchronously_invoked_function_has_a_dlq_and_an_on_failure_destination(sam_template):
    async_functions = set(lambda_targets(sam_template))
    assert async_functions == {
        "ProcessOrderFunction",
        "NotifyFunction",
        "ExecutionWatcherFunction",
        "StartImportFunction",
    }
    for function_id in async_functions:
        function = sam_template.properties(function_id)
        dlq = function["DeadLetterConfig"]["TargetArn"]["Fn::GetAtt"][0]
        assert sam_template.resources[dlq]["Type"] == "AWS::SQS::Queue"
        config = invoke_config(sam_template, function_id)
        assert config["MaximumRetryAttempts"] >= 1
        assert config["MaximumEventAgeInSeconds"] > 0
        destination = config["DestinationConfig"]["OnFailure"]["Destination"]["Fn::GetAtt"][0]
        assert sam_template.resources[destination]["Type"] == "AWS::SQS::Queue"


def test_every_queue_that_feeds_a_function_redrives_to_its_own_dlq(sam_template):
    sources = [
        mapping["Properties"]["EventSourceArn"]["Fn::GetAtt"][0]
        for mapping in sam_template.of_type("AWS::Lambda::EventSourceMapping").values()
        if sam_template.resources[mapping["Properties"]["EventSourceArn"]["Fn::GetAtt"][0]]["Type"] == "AWS::SQS::Queue"
    ]
    assert sources == ["AnalyticsQueue"]
    for queue_id in sources:
        redrive = sam_template.properties(queue_id)["RedrivePolicy"]
        dlq = redrive["deadLetterTargetArn"]["Fn::GetAtt"][0]
        assert dlq != queue_id
        assert 1 <= redrive["maxReceiveCount"] <= 10
        assert sam_template.properties(dlq).get("FifoQueue") == sam_template.properties(queue_id).get("FifoQueue")


def test_stream_and_queue_consumers_report_partial_batch_failures(sam_template):
    for mapping in sam_template.of_type("AWS::Lambda::EventSourceMapping").values():
        assert mapping["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


@pytest.mark.parametrize("path", ASL_FILES, ids=lambda path: path.name)
def test_statelint_accepts_the_state_machine(path):
    result = subprocess.run([str(STATELINT), "--ignore=URI", str(path)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("machine", ["OrderWorkflow", "OrderStepsWorkflow", "QuoteWorkflow"])
def test_every_substitution_in_the_definition_is_given_by_the_template_and_no_arn_is_hard_coded(sam_template, machine):
    properties = sam_template.properties(machine)
    definition = (PROJECT_ROOT / properties["DefinitionS3Location"]["Key"]).read_text()
    assert set(re.findall(r"\$\{(\w+)\}", definition)) == set(properties["DefinitionSubstitutions"])
    assert "arn:aws:lambda" not in definition
    assert "arn:aws:sns" not in definition
    assert "QueryLanguage" not in definition or json.loads(definition)["QueryLanguage"] == "JSONPath"


@pytest.mark.parametrize(
    ("machine", "kind"),
    [
        ("OrderWorkflow", "STANDARD"),
        ("OrderStepsWorkflow", "EXPRESS"),
        ("QuoteWorkflow", "EXPRESS"),
        ("ImportWorkflow", "STANDARD"),
        ("ImportChunkWorkflow", "EXPRESS"),
    ],
)
def test_the_workflows_log_everything_to_a_log_group_with_retention_and_are_traced(sam_template, machine, kind):
    assert set(sam_template.of_type("AWS::StepFunctions::StateMachine")) == {
        "OrderWorkflow",
        "OrderStepsWorkflow",
        "QuoteWorkflow",
        "ImportWorkflow",
        "ImportChunkWorkflow",
    }
    properties = sam_template.properties(machine)
    assert properties["StateMachineType"] == kind
    assert properties["TracingConfiguration"] == {"Enabled": True}
    logging = properties["LoggingConfiguration"]
    assert (logging["Level"], logging["IncludeExecutionData"]) == ("ALL", True)
    log_group = logging["Destinations"][0]["CloudWatchLogsLogGroup"]["LogGroupArn"]["Fn::GetAtt"][0]
    assert sam_template.properties(log_group)["RetentionInDays"]


def _definition(name):
    return json.loads((PROJECT_ROOT / "statemachine" / name).read_text())


ORDER_STEPS = "arn:aws:states:::states:startExecution.sync:2"


def test_every_task_of_the_order_workflow_retries_and_catches():
    for name, state in _states(_definition("order_workflow.asl.json")):
        if state["Type"] == "Task":
            assert state.get("Retry"), name
            assert any(c["ErrorEquals"] == ["States.ALL"] for c in state["Catch"]), name


def test_every_task_of_the_order_steps_retries_and_a_fault_that_outlasts_it_fails_the_steps():
    """No task of the child catches a fault to end the order itself: the child fails (an alarmed
    ExecutionsFailed) and the order workflow, which catches it, closes the order. Only the breaker
    (a provider's fault takes the order back to it) and undelivered confirmations are caught."""
    caught = {}
    for name, state in _states(_definition("order_steps_workflow.asl.json")):
        if state["Type"] == "Task":
            assert state.get("Retry"), name
            if "Catch" in state:
                caught[name] = [catch["Next"] for catch in state["Catch"]]
    assert caught == {
        "ChargePayment": ["CheckPaymentCircuit"],
        "SendConfirmationEmail": ["EmailUndelivered"],
        "EmailUndelivered": ["PublishConfirmation"],
        "PublishConfirmation": ["NotificationUndelivered"],
        "NotificationUndelivered": ["DeadLetterUnsent"],
    }


def test_the_order_workflow_keeps_in_standard_only_what_waits_and_the_decisions_between_its_steps():
    """Standard is billed per transition: its tasks are the steps (Express children), the approval's
    task token and the close; the breaker's wait is its own. The child never waits (Express cannot)."""
    parent = dict(_states(_definition("order_workflow.asl.json")))
    tasks = {name: state["Resource"] for name, state in parent.items() if state["Type"] == "Task"}
    assert tasks == {
        "OrderSteps": ORDER_STEPS,
        "PaymentSteps": ORDER_STEPS,
        "RequestApproval": "arn:aws:states:::lambda:invoke.waitForTaskToken",
        "CloseOrder": "arn:aws:states:::lambda:invoke",
    }
    assert [name for name, state in parent.items() if state["Type"] == "Wait"] == ["WaitForPaymentProvider"]
    child = dict(_states(_definition("order_steps_workflow.asl.json")))
    assert not [name for name, state in child.items() if state["Type"] == "Wait"]
    assert not [name for name, state in child.items() if ".sync" in state.get("Resource", "")]
    assert not [name for name, state in child.items() if ".waitForTaskToken" in state.get("Resource", "")]


def test_the_order_steps_end_with_an_outcome_that_the_order_workflow_decides_on():
    """The child ends either through a Return state or, once MarkConfirmed has made the order
    CONFIRMED, after the confirmation's messages (sent or dead-lettered), with no state of its own:
    every outcome it can set is one of StepsOutcome's choices, and an unknown one is a ProcessingError."""
    child = dict(_states(_definition("order_steps_workflow.asl.json")))
    endings = {name for name, state in child.items() if state.get("End") or state["Type"] == "Succeed"}
    assert endings == {name for name in child if name.startswith("Return")} | {
        "PublishConfirmation", "NotificationUndelivered", "DeadLetterUnsent",
    }  # fmt: skip
    returned = {child[name]["Result"]["outcome"] for name in endings if name.startswith("Return")}
    assert all(child[name]["ResultPath"] == "$.steps" for name in endings if name.startswith("Return"))
    marked = child["MarkConfirmed"]
    assert (marked["ResultSelector"], marked["ResultPath"]) == ({"outcome": "CONFIRMED"}, "$.steps")
    decision = dict(_states(_definition("order_workflow.asl.json")))["StepsOutcome"]
    assert {choice["Variable"] for choice in decision["Choices"]} == {"$.steps.outcome"}
    assert {choice["StringEquals"] for choice in decision["Choices"]} == returned | {"CONFIRMED"}
    assert decision["Default"] == "ProcessingError"


@pytest.mark.parametrize("task", ["OrderSteps", "PaymentSteps"])
def test_a_child_of_the_order_workflow_is_started_again_only_when_it_could_not_start(task):
    """A child that ran may have reserved, charged or shipped: its failure is the order's (caught,
    ProcessingError), never a reason to run it again. Each start has its own name (the order, the
    stage, the round of waiting for the provider, the attempt): moto refuses a name again, and on
    AWS a name says which order and stage an Express execution served."""
    state = dict(_states(_definition("order_workflow.asl.json")))[task]
    [retry] = state["Retry"]
    assert retry["ErrorEquals"]
    assert all(error.startswith("StepFunctions.") for error in retry["ErrorEquals"])
    assert [catch["Next"] for catch in state["Catch"]] == ["ProcessingError"]
    stage, name = {
        "OrderSteps": ("ORDER", "States.Format('{}-order-{}', $.order_id, $$.State.RetryCount)"),
        "PaymentSteps": ("PAYMENT", "States.Format('{}-payment-{}-{}', $.order_id, $.round, $$.State.RetryCount)"),
    }[task]
    assert (state["Parameters"]["Input"]["stage"], state["Parameters"]["Name.$"]) == (stage, name)


def test_the_quote_workflow_retries_only_what_clears_and_lets_the_rest_fail_the_execution():
    """A quote is answered in one round trip: a throttled or briefly failing service is retried twice,
    quickly; anything else fails the execution, which the API answers with a fixed 500 (no Catch
    that would hide it from the ExecutionsFailed alarm)."""
    definition = json.loads((PROJECT_ROOT / "statemachine" / "quote_workflow.asl.json").read_text())
    tasks = {name: state for name, state in _states(definition) if state["Type"] == "Task"}
    assert set(tasks) == {"ValidateRequest", "ReadProduct", "PriceQuote"}
    for name, state in tasks.items():
        [retry] = state["Retry"]
        assert (retry["MaxAttempts"], retry["IntervalSeconds"], retry["BackoffRate"]) == (2, 1, 2.0), name
        assert "States.ALL" not in retry["ErrorEquals"], name
        assert "Catch" not in state, name
        expected = (
            "DynamoDB.ProvisionedThroughputExceededException"
            if name == "ReadProduct"
            else "Lambda.TooManyRequestsException"
        )
        assert expected in retry["ErrorEquals"], name
    assert definition["TimeoutSeconds"] < 29  # API Gateway's integration timeout


def _states(definition):
    for name, state in definition["States"].items():
        yield name, state
        for branch in state.get("Branches", []):
            yield from _states(branch)
        if "ItemProcessor" in state:
            yield from _states(state["ItemProcessor"])


def test_ended_executions_reach_the_watcher_from_the_default_bus_with_retries_and_a_dlq(sam_template):
    """Step Functions sends status changes to the default bus only: a rule on another bus would pass
    locally and never fire on AWS."""
    rule = sam_template.properties("ExecutionWatcherFunctionExecutionEnded")
    assert "EventBusName" not in rule
    assert rule["EventPattern"] == {
        "source": ["aws.states"],
        "detail-type": ["Step Functions Execution Status Change"],
        "detail": {"status": ["FAILED", "TIMED_OUT", "ABORTED"], "stateMachineArn": [{"Ref": "OrderWorkflow"}]},
    }
    [target] = rule["Targets"]
    assert target["Arn"] == {"Ref": "ExecutionWatcherFunctionAliaslive"}
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 185, "MaximumEventAgeInSeconds": 86400}
    assert target["DeadLetterConfig"]["Arn"] == {"Fn::GetAtt": ["ExecutionEventsDeliveryDLQ", "Arn"]}
    policy = sam_template.properties("ExecutionEventsDeliveryDLQPolicy")["PolicyDocument"]["Statement"]
    assert policy[0]["Condition"] == {
        "ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": ["ExecutionWatcherFunctionExecutionEnded", "Arn"]}}
    }
