"""The local stack's intrinsic functions: what make dev and the fixtures resolve the template with."""

import pytest

from local_stack.cloudformation.intrinsics import Intrinsics, UnresolvedReferenceError

ATTRIBUTES = {
    ("Queue", "Arn"): "arn:aws:sqs:us-east-1:1:q",
    ("Queue", "Ref"): "https://q",
    ("Bus", "Name"): "orders-dev",
    ("Cache", "Endpoint.Address"): "cache.local",
}


def get_att(logical_id, attribute):
    try:
        return ATTRIBUTES[(logical_id, attribute)]
    except KeyError:
        raise UnresolvedReferenceError(f"{logical_id}.{attribute}") from None


@pytest.fixture
def intrinsics():
    conditions = {"IsProd": {"Fn::Equals": [{"Ref": "Stage"}, "prod"]}, "IsDev": {"Fn::Not": [{"Condition": "IsProd"}]}}
    return Intrinsics(
        {"Stage": "dev", "AWS::Region": "us-east-1"}, conditions, lambda name: get_att(name, "Ref"), get_att
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"Ref": "Stage"}, "dev"),
        ({"Ref": "Queue"}, "https://q"),
        ({"Fn::GetAtt": ["Queue", "Arn"]}, "arn:aws:sqs:us-east-1:1:q"),
        ({"Fn::GetAtt": "Bus.Name"}, "orders-dev"),
        ({"Fn::Sub": "orders-${Stage}-${AWS::Region}"}, "orders-dev-us-east-1"),
        ({"Fn::Sub": "${Queue.Arn}/x"}, "arn:aws:sqs:us-east-1:1:q/x"),
        ({"Fn::Sub": ["${a}-${Stage}", {"a": {"Ref": "Queue"}}]}, "https://q-dev"),
        ({"Fn::Sub": "keep ${!Literal}"}, "keep ${Literal}"),
        ({"Fn::Join": ["/", ["a", {"Ref": "Stage"}]]}, "a/dev"),
        ({"Fn::Select": [1, {"Fn::Split": [":", "a:b:c"]}]}, "b"),
        ({"Fn::If": ["IsProd", 90, 14]}, 14),
        ({"Fn::If": ["IsDev", "yes", "no"]}, "yes"),
        ({"Fn::GetAtt": "Cache.Endpoint.Address"}, "cache.local"),  # the attribute is all after the first dot
        ({"Fn::Sub": "${Cache.Endpoint.Address}:6379"}, "cache.local:6379"),
        ({"Fn::Select": ["0", ["a", "b"]]}, "a"),  # an index from a parameter is a string
        ({"Fn::And": [{"Condition": "IsDev"}, {"Fn::Equals": ["a", "a"]}]}, True),
        ({"Fn::And": [{"Condition": "IsDev"}, {"Condition": "IsProd"}]}, False),
        ({"Fn::Or": [{"Condition": "IsProd"}, {"Condition": "IsDev"}]}, True),
        ({"Fn::Or": [{"Condition": "IsProd"}, {"Fn::Equals": ["a", "b"]}]}, False),
    ],
)
def test_intrinsic_functions_resolve_as_cloudformation_does(intrinsics, value, expected):
    assert intrinsics.resolve(value) == expected


def test_no_value_drops_the_property_or_item_it_stands_in(intrinsics):
    value = {
        "Variables": {"KEEP": "1", "DROP": {"Fn::If": ["IsProd", "x", {"Ref": "AWS::NoValue"}]}},
        "List": ["a", {"Ref": "AWS::NoValue"}, "b"],
    }

    assert intrinsics.resolve(value) == {"Variables": {"KEEP": "1"}, "List": ["a", "b"]}


def test_a_reference_to_a_resource_not_made_yet_says_which(intrinsics):
    with pytest.raises(UnresolvedReferenceError, match=r"Table\.Arn"):
        intrinsics.resolve({"Fn::GetAtt": ["Table", "Arn"]})
