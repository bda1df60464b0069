"""The declarative mutants (`make mutation`): generated from the files, each one valid, small and
known by a key that survives renumbering."""

import json

from local_stack.cloudformation.template import PROJECT_ROOT
from tools.mutation.declarative import applied, mutants, state_machine_mutants, template_mutants

ORDER_WORKFLOW = "statemachine/order_workflow.asl.json"
ORDER_STEPS = "statemachine/order_steps_workflow.asl.json"
ALL = {mutant.key: mutant for mutant in mutants(PROJECT_ROOT)}


def one(location, operator, file=ORDER_WORKFLOW):
    [mutant] = [m for m in ALL.values() if (m.file, m.location, m.operator) == (file, location, operator)]
    return mutant


def state(document, name):
    return document["States"][name]


def handlers(definition):
    """(states with Retry, retriers that retry, catchers), counted here independently."""
    found = [0, 0, 0]
    for state in definition["States"].values():
        found[0] += "Retry" in state
        found[1] += sum(1 for retrier in state.get("Retry", []) if retrier.get("MaxAttempts", 3) != 0)
        found[2] += len(state.get("Catch", []))
        for nested in [state.get("Iterator"), state.get("ItemProcessor"), *state.get("Branches", [])]:
            if nested:
                found = [a + b for a, b in zip(found, handlers(nested), strict=True)]
    return found


def test_every_retry_catch_and_condition_of_every_state_machine_has_its_mutants():
    for path in (PROJECT_ROOT / "statemachine").glob("*.asl.json"):
        file = f"statemachine/{path.name}"
        operators = [m.operator for m in ALL.values() if m.file == file]
        counted = [operators.count(name) for name in ("no-retry", "retry-zero-times", "catch-removed")]
        assert counted == handlers(json.loads(path.read_text())), file
        assert operators.count("unconditional-write") == path.read_text().count('"ConditionExpression"'), file
    assert sum(1 for m in ALL.values() if m.operator == "unconditional-write") == 2


def test_an_unconditional_write_keeps_only_the_names_and_values_its_update_still_uses():
    mutated = applied(one("MarkConfirmed.ConditionExpression", "unconditional-write", ORDER_STEPS), PROJECT_ROOT)
    parameters = state(mutated, "MarkConfirmed")["Parameters"]
    assert "ConditionExpression" not in parameters
    assert parameters["UpdateExpression"] == "SET #status = :confirmed, updated_at = :now"
    assert set(parameters["ExpressionAttributeNames"]) == {"#status"}
    assert set(parameters["ExpressionAttributeValues"]) == {":confirmed", ":now"}


def test_a_removed_catcher_or_a_zero_retry_changes_only_its_own_handler():
    definition = json.loads((PROJECT_ROOT / ORDER_WORKFLOW).read_text())
    [catch_all] = [
        m
        for m in state_machine_mutants(ORDER_WORKFLOW, definition)
        if m.operator == "catch-removed" and m.location == "RequestApproval.Catch[States.ALL]"
    ]
    before = state(definition, "RequestApproval")
    after = state(applied(catch_all, PROJECT_ROOT), "RequestApproval")
    assert after.get("Catch", []) == [c for c in before["Catch"] if c["ErrorEquals"] != ["States.ALL"]]
    assert after["Retry"] == before["Retry"]
    never, retried = state(definition, "RequestApproval")["Retry"]  # the first retries nothing already: no mutant
    zero = [
        m for m in ALL.values() if m.operator == "retry-zero-times" and m.location.startswith("RequestApproval.Retry[")
    ]
    assert [state(applied(m, PROJECT_ROOT), "RequestApproval")["Retry"] for m in zero] == [
        [never, {**retried, "MaxAttempts": 0}]
    ]


def test_keys_name_what_they_change_so_a_new_state_renumbers_nothing():
    definition = {
        "StartAt": "A",
        "States": {
            "A": {"Type": "Task", "Resource": "x", "Retry": [{"ErrorEquals": ["E"], "MaxAttempts": 2}], "End": True}
        },
    }
    grown = {"StartAt": "New", "States": {"New": {"Type": "Pass", "Next": "A"}, **definition["States"]}}
    keys = {m.key for m in state_machine_mutants("f.asl.json", definition)}
    assert keys == {m.key for m in state_machine_mutants("f.asl.json", grown)}
    assert len(keys) == 2  # no Retry at all; the retrier of E zero times


def test_an_alarm_loses_its_actions_and_a_statement_gains_an_action_it_did_not_have():
    template = {
        "Resources": {
            "Alarm": {
                "Type": "AWS::CloudWatch::Alarm",
                "Properties": {"AlarmActions": [{"Ref": "Topic"}], "OKActions": []},
            },
            "Fn": {
                "Type": "AWS::Serverless::Function",
                "Properties": {
                    "Policies": [
                        {
                            "Statement": [
                                {"Sid": "Read", "Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": "t"}
                            ]
                        }
                    ]
                },
            },
        }
    }
    found = {m.operator: m for m in template_mutants(template)}
    assert set(found) == {"alarm-tells-nobody", "extra-grant"}
    silenced = json.loads(json.dumps(template))
    found["alarm-tells-nobody"].change(silenced)
    assert silenced["Resources"]["Alarm"]["Properties"] == {"OKActions": []}
    granted = json.loads(json.dumps(template))
    found["extra-grant"].change(granted)
    [statement] = granted["Resources"]["Fn"]["Properties"]["Policies"][0]["Statement"]
    assert statement["Action"] == ["dynamodb:GetItem", "dynamodb:DeleteItem"]
    assert found["extra-grant"].location == "Fn.Read+dynamodb:DeleteItem"


def test_an_alarm_loop_loses_its_actions_in_its_body_every_alarm_it_makes_at_once():
    body = {"Type": "AWS::CloudWatch::Alarm", "Properties": {"AlarmActions": [{"Ref": "Topic"}], "OKActions": []}}
    loop = ["Queue", ["ADLQ", "BDLQ"], {"Fn::ForEach::Inner": ["Kind", ["X"], {"${Queue}${Kind}Alarm": body}]}]
    template = {"Resources": {"Fn::ForEach::QueueAlarms": loop}}

    [mutant] = template_mutants(template)

    assert (mutant.operator, mutant.location) == ("alarm-tells-nobody", "${Queue}${Kind}Alarm.AlarmActions")
    silenced = json.loads(json.dumps(template))
    mutant.change(silenced)
    inner = silenced["Resources"]["Fn::ForEach::QueueAlarms"][2]["Fn::ForEach::Inner"][2]
    assert inner["${Queue}${Kind}Alarm"]["Properties"] == {"OKActions": []}
