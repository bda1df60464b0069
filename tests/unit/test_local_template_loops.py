"""The template's Fn::ForEach loops expanded as CloudFormation's AWS::LanguageExtensions expands them,
by SAM CLI's own ForEach processor (an internal API: these tests fail if an upgrade changes it)."""

from local_stack.cloudformation.template import expand_loops

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
