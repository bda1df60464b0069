"""The template's Fn::ForEach loops expanded as CloudFormation's AWS::LanguageExtensions expands them,
by SAM CLI's own ForEach processor (an internal API: these tests fail if an upgrade changes it)."""

from samtranslator.yaml_helper import yaml_parse

from local_stack.cloudformation.template import TEMPLATE, expand_loops, read_source

ALARM = {"Type": "AWS::CloudWatch::Alarm", "Properties": {"AlarmDescription": "${Queue} ${Outcome}"}}


def test_nested_loops_make_one_resource_per_item_with_the_items_substituted():
    template = {
        "Transform": ["AWS::LanguageExtensions", "AWS::Serverless-2016-10-31"],
        "Resources": {
            "Topic": {"Type": "AWS::SNS::Topic"},
            "Fn::ForEach::Alarms": [
                "Queue",
                ["ADLQ", "BDLQ"],
                {
                    "Fn::ForEach::Outcomes": [
                        "Outcome",
                        ["Failed", "TimedOut"],
                        {
                            "${Queue}${Outcome}Alarm": {
                                **ALARM,
                                "Properties": {
                                    **ALARM["Properties"],
                                    "Queue": {"Fn::GetAtt": [{"Ref": "Queue"}, "QueueName"]},
                                    "Topic": {"Ref": "Topic"},
                                    "Named": {"Fn::Sub": "${${Queue}}"},
                                },
                            }
                        },
                    ]
                },
            ],
        },
    }

    expanded = expand_loops(template)

    assert expanded["Transform"] == "AWS::Serverless-2016-10-31"  # done: the SAM transform is next
    assert sorted(expanded["Resources"]) == [
        "ADLQFailedAlarm",
        "ADLQTimedOutAlarm",
        "BDLQFailedAlarm",
        "BDLQTimedOutAlarm",
        "Topic",
    ]
    assert expanded["Resources"]["BDLQTimedOutAlarm"]["Properties"] == {
        "AlarmDescription": "BDLQ TimedOut",
        "Queue": {"Fn::GetAtt": ["BDLQ", "QueueName"]},  # a loop's Ref of its identifier is the item itself
        "Topic": {"Ref": "Topic"},  # any other Ref is left to the deploy
        "Named": {"Fn::Sub": "${BDLQ}"},  # how a loop refers to the resource an item names
    }


def test_a_template_without_the_language_extensions_is_left_as_it_is():
    template = {"Transform": "AWS::Serverless-2016-10-31", "Resources": {"Fn::ForEach::Alarms": ["Q", [], {}]}}
    assert expand_loops(template) is template


def test_the_template_is_read_as_samtranslator_reads_it_tags_and_all():
    """read_source parses with libyaml and samtranslator's tag constructor: the same data as
    samtranslator's own (pure Python) yaml_parse, `!Ref`, `!Sub` and `!GetAtt` included."""
    text = TEMPLATE.read_text()

    assert read_source() == expand_loops(yaml_parse(text))
    assert {"Fn::Sub", "Ref", "Fn::GetAtt"} <= intrinsics_in(yaml_parse(text))


def intrinsics_in(node):
    if isinstance(node, dict):
        return {key for key in node if key == "Ref" or key.startswith("Fn::")} | {
            name for value in node.values() for name in intrinsics_in(value)
        }
    if isinstance(node, list):
        return {name for value in node for name in intrinsics_in(value)}
    return set()
