"""template.yaml: valid for SAM and CloudFormation, and what it grants is what each function uses."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from cfnlint.api import lint

from local_stack.cloudformation.template import PROJECT_ROOT, REGION, TEMPLATE, cloudformation

SAM = Path(sys.executable).with_name("sam")


def refs(value):
    """Logical ids that a (resolved-free) CloudFormation value points at."""
    found = set()
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "Ref" and isinstance(item, str) and not item.startswith("AWS::"):
                found.add(item)
            elif key == "Fn::GetAtt":
                found.add(item[0] if isinstance(item, list) else item.split(".")[0])
            elif key == "Fn::Sub" and isinstance(item, str):
                found |= {name.split(".")[0] for name in _sub_names(item)}
            else:
                found |= refs(item)
    elif isinstance(value, list):
        for item in value:
            found |= refs(item)
    return found


def _sub_names(text):
    return {name for name in re.findall(r"\$\{([^}!]+)\}", text) if not name.startswith("AWS::")}


def findings(template_text):
    """cfn-lint's errors and warnings: what its command line reports (it hides informational rules)."""
    matches = lint(template_text, regions=[REGION])
    return [str(match) for match in matches if match.rule.severity in ("error", "warning")]


@pytest.mark.slow
def test_cfn_lint_finds_nothing_in_the_template():
    assert findings(TEMPLATE.read_text()) == []


@pytest.mark.slow
def test_cfn_lint_finds_nothing_in_the_transformed_template(sam_template):
    assert findings(json.dumps(cloudformation(sam_template))) == []


@pytest.mark.slow
def test_sam_validate_passes_offline():
    """Translation only: `sam validate --lint` would run cfn-lint again (test_cfn_lint_… above)."""
    environment = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1", "SAM_CLI_TELEMETRY": "0"}
    result = subprocess.run(
        [str(SAM), "validate", "--template-file", str(TEMPLATE), "--config-env", "basic"],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        env=environment,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is a valid SAM Template" in result.stdout + result.stderr


def test_functions_run_python_313_on_arm64_with_active_tracing(sam_template):
    assert sam_template.parameters["Architecture"] == "arm64"
    functions = sam_template.of_type("AWS::Lambda::Function")
    assert functions
    for name, function in functions.items():
        properties = function["Properties"]
        assert properties["Runtime"] == "python3.13", name
        assert properties["Architectures"] == [{"Ref": "Architecture"}], name
        assert properties["TracingConfig"] == {"Mode": "Active"}, name
        assert len(properties["Layers"]) == 3, name


def _statements(role):
    for policy in role["Properties"].get("Policies", []):
        statements = policy["PolicyDocument"]["Statement"]
        yield from statements if isinstance(statements, list) else [statements]


def test_no_policy_grants_a_wildcard_action(sam_template):
    for name, role in sam_template.of_type("AWS::IAM::Role").items():
        for statement in _statements(role):
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            assert all("*" not in action for action in actions), (name, actions)


# What AWS lets a role do only on "*": vended log delivery (Step Functions' execution logs).
NO_RESOURCE_LEVEL_ACTIONS = {
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
}


def test_a_statement_on_every_resource_grants_only_actions_that_cannot_name_one(sam_template):
    """The least-privilege proof cannot see these (moto records no log delivery): the list is the check."""
    wildcard = 0
    for name, role in sam_template.of_type("AWS::IAM::Role").items():
        for statement in _statements(role):
            if statement["Resource"] == "*":
                wildcard += 1
                assert set(statement["Action"]) == NO_RESOURCE_LEVEL_ACTIONS, name
    assert wildcard == len(sam_template.of_type("AWS::StepFunctions::StateMachine"))


def _resources_a_function_uses(sam_template, function_id):
    """What the function is wired to: its environment, event sources, destinations and DLQ."""
    function = sam_template.resources[function_id]["Properties"]
    used = refs(function.get("Environment", {})) | refs(function.get("DeadLetterConfig", {}))
    for kind in ("AWS::Lambda::EventSourceMapping", "AWS::Lambda::EventInvokeConfig"):
        for resource in sam_template.of_type(kind).values():
            properties = resource["Properties"]
            if sam_template.function_of(properties["FunctionName"]) == function_id:
                used |= refs(properties) - {function_id, f"{function_id}Aliaslive"}
    return used


# Functions that compute from their input alone: the workflow reads and writes for them.
NO_AWS_ACCESS = {"ValidateQuoteFunction", "PriceQuoteFunction"}


def test_each_function_is_granted_only_resources_it_is_wired_to(sam_template):
    for function_id, function in sam_template.of_type("AWS::Lambda::Function").items():
        role_id = function["Properties"]["Role"]["Fn::GetAtt"][0]
        role = sam_template.resources[role_id]
        granted = set()
        for statement in _statements(role):
            assert statement["Resource"] != "*", (function_id, statement)
            if not _answers_task_tokens(sam_template, statement):
                granted |= refs(statement["Resource"])
        assert bool(granted) == (function_id not in NO_AWS_ACCESS), function_id
        assert granted <= _resources_a_function_uses(sam_template, function_id), function_id


def _answers_task_tokens(sam_template, statement):
    """A grant to resume a workflow that waits for task tokens: the tokens reach the function in
    its data (the order), not through its wiring."""
    actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
    machines = [sam_template.resources.get(name, {}) for name in refs(statement["Resource"])]
    return set(actions) <= {"states:SendTaskSuccess", "states:SendTaskFailure"} and all(
        machine.get("Type") == "AWS::StepFunctions::StateMachine"
        and ".waitForTaskToken" in sam_template.local_path(machine["Properties"]["DefinitionS3Location"]).read_text()
        for machine in machines
    )


def test_the_orders_table_publishes_new_orders_through_its_stream(sam_template):
    table = sam_template.properties("OrdersTable")
    assert table["StreamSpecification"]["StreamViewType"] in ("NEW_IMAGE", "NEW_AND_OLD_IMAGES")
    [mapping] = [
        resource["Properties"]
        for resource in sam_template.of_type("AWS::Lambda::EventSourceMapping").values()
        if resource["Properties"]["FunctionName"] == {"Ref": "PublishOrderEventsFunctionAliaslive"}
    ]
    assert mapping["EventSourceArn"] == {"Fn::GetAtt": ["OrdersTable", "StreamArn"]}
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BisectBatchOnFunctionError"] is True
    assert "OnFailure" in mapping["DestinationConfig"]
