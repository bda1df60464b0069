"""The API and trigger samples of events/ (for `sam local invoke -e`) are what the functions accept:
each one, sent as is, gets its route's success (or the 404 of an order nobody placed)."""

import json
from pathlib import Path

import pytest

from support.aws import table_items

EVENTS = Path(__file__).resolve().parents[2] / "events"


def sample(name):
    return json.loads((EVENTS / name).read_text())


@pytest.mark.parametrize(
    ("function_id", "name", "status"),
    [
        ("BackOfficeFunction", "back_office_put_stock.json", 200),
        ("BackOfficeFunction", "back_office_create_user.json", 201),
        ("StorefrontFunction", "storefront_create_order.json", 202),
        ("StorefrontFunction", "storefront_get_order.json", 404),
    ],
)
def test_an_api_sample_gets_its_routes_answer(function, function_id, name, status):
    response = function(function_id).invoke(sample(name))

    assert response["statusCode"] == status, response
    assert "message" in json.loads(response["body"]) or status < 400


def test_the_post_confirmation_sample_stores_its_profile(function, stack):
    event = sample("cognito_post_confirmation.json")

    assert function("CreateProfileFunction").invoke(event) == event
    [profile] = table_items(stack, "UsersTable")
    assert (profile["user_id"], profile["email"], profile["name"]) == (
        event["request"]["userAttributes"]["sub"],
        "ada@example.com",
        "Ada Lovelace",
    )
