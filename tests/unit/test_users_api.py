"""Back office POST /users (a Cognito account and its profile) and GET /users/{user_id}, called by
staff through BackOfficeFunction's handler, on moto."""

from dataclasses import replace

import pytest
from moto.cognitoidp.exceptions import InvalidParameterException
from moto.cognitoidp.models import CognitoIdpBackend

from support.aws import embedded_metrics, failing_backend_call, table_items


def cognito_user(stack, email):
    """The account's attributes in the user pool."""
    user = stack.client("cognito-idp").admin_get_user(UserPoolId=stack.ref("UserPool"), Username=email)
    return {attribute["Name"]: attribute["Value"] for attribute in user["UserAttributes"]}


def cognito_emails(stack):
    users = stack.client("cognito-idp").list_users(UserPoolId=stack.ref("UserPool"))["Users"]
    return sorted(
        attribute["Value"] for user in users for attribute in user["Attributes"] if attribute["Name"] == "email"
    )


def test_create_user_returns_201_with_the_cognito_sub_and_stores_the_profile(back_office, stack, capsys):
    response = back_office.post("/users", {"name": "Ada Lovelace", "email": "ada@example.com"})

    assert response.status == 201
    assert response.headers["Content-Type"] == "application/json"
    assert response.body == {
        "user_id": response.body["user_id"],
        "name": "Ada Lovelace",
        "email": "ada@example.com",
        "created_at": response.body["created_at"],
    }
    account = cognito_user(stack, "ada@example.com")
    assert response.body["user_id"] == account["sub"]
    assert len(account["sub"]) == 36
    assert (account["email"], account["name"], account["email_verified"]) == ("ada@example.com", "Ada Lovelace", "true")
    [stored] = table_items(stack, "UsersTable")
    assert stored["user_id"] == account["sub"]
    assert stored["email"] == "ada@example.com"
    assert stored["name"] == "Ada Lovelace"
    # The count that the dashboard plots, in CloudWatch's embedded metric format.
    assert embedded_metrics(capsys.readouterr().out)["UserCreated"] == ("ServerlessOrders", "Count", [1.0])


def test_get_user_returns_the_stored_user(back_office):
    created = back_office.post("/users", {"name": "Grace", "email": "grace@example.com"}).body

    response = back_office.get(f"/users/{created['user_id']}")

    assert response.status == 200
    assert response.body == created


def test_two_customers_get_different_ids(back_office, stack):
    first = back_office.post("/users", {"name": "A", "email": "a@example.com"}).body
    second = back_office.post("/users", {"name": "B", "email": "b@example.com"}).body

    assert first["user_id"] != second["user_id"]
    assert len(table_items(stack, "UsersTable")) == 2
    assert cognito_emails(stack) == ["a@example.com", "b@example.com"]


def test_an_existing_email_is_409_and_changes_nothing(back_office, stack):
    first = back_office.post("/users", {"name": "Ada", "email": "ada@example.com"}).body

    response = back_office.post("/users", {"name": "Someone Else", "email": "ada@example.com"})

    assert response.status == 409
    assert response.body == {"message": "a customer with the email ada@example.com exists already"}
    [stored] = table_items(stack, "UsersTable")
    assert (stored["user_id"], stored["name"]) == (first["user_id"], "Ada")
    assert cognito_emails(stack) == ["ada@example.com"]
    assert cognito_user(stack, "ada@example.com")["name"] == "Ada"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "Ada", "email": "not-an-email"}, "body.email"),
        ({"name": "Ada", "email": "ada@"}, "body.email"),
        ({"name": "Ada"}, "body.email"),
        ({"email": "ada@example.com"}, "body.name"),
        ({"name": "", "email": "ada@example.com"}, "body.name"),
        ({"name": "   ", "email": "ada@example.com"}, "body.name"),
        ({"name": "x" * 201, "email": "ada@example.com"}, "body.name"),
        ({"name": 42, "email": "ada@example.com"}, "body.name"),
        ({"name": "Ada", "email": "ada@example.com", "admin": True}, "body.admin"),
        ({"name": "Ada", "email": "ada@example.com", "user_id": "chosen-id"}, "body.user_id"),
        ({"name": "Ada", "email": ["ada@example.com"]}, "body.email"),
    ],
)
def test_invalid_user_is_422_naming_the_field_and_creates_nothing(back_office, stack, body, field):
    response = back_office.post("/users", body)

    assert response.status == 422
    assert response.body["message"].startswith("invalid request")
    assert field in [detail["location"] for detail in response.body["details"]]
    assert table_items(stack, "UsersTable") == []
    assert cognito_emails(stack) == []


@pytest.mark.parametrize("raw_body", ["{not json", "", "[]", "null", '"text"'])
def test_body_that_is_not_a_json_object_is_a_4xx_json_error(back_office, stack, raw_body):
    response = back_office.post("/users", raw_body=raw_body)

    assert response.status in (400, 422)
    assert isinstance(response.body["message"], str)
    assert table_items(stack, "UsersTable") == []
    assert cognito_emails(stack) == []


def test_malformed_json_is_400(back_office):
    response = back_office.post("/users", raw_body='{"name": "Ada",')

    assert response.status == 400
    assert response.body == {"message": "request body is not valid JSON"}


def test_oversized_values_are_422_and_store_nothing(back_office, stack):
    # Every field is bounded and unknown fields are refused, so no large body gets past validation.
    response = back_office.post("/users", {"name": "Ada " * 100_000, "email": "ada@example.com"})

    assert response.status == 422
    assert table_items(stack, "UsersTable") == []
    assert cognito_emails(stack) == []


@pytest.mark.parametrize("user_id", ["x" * 129, "bad id", "a#b"])
def test_malformed_user_id_in_path_is_422_naming_the_parameter(back_office, user_id):
    response = back_office.get(f"/users/{user_id}")

    assert response.status == 422
    assert response.body["details"][0]["location"] == "path.user_id"


@pytest.mark.parametrize(("method", "path"), [("GET", "/nothing"), ("DELETE", "/users")])
def test_a_route_the_function_does_not_serve_is_a_4xx_json(back_office, method, path):
    # API Gateway answers unknown routes itself; should one reach the function, it answers JSON too.
    gateway_forwarding_anything = replace(back_office, routes=[*back_office.routes, (method, path)])

    response = gateway_forwarding_anything.request(method, path)

    assert response.status in (404, 405)
    assert isinstance(response.body["message"], str)


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"]
)
def test_a_body_that_is_not_sent_as_json_is_415_and_stores_nothing(back_office, stack, content_type):
    body = '{"name": "Ada", "email": "ada@example.com"}'

    response = back_office.post("/users", raw_body=body, headers={"Content-Type": content_type})

    assert response.status == 415
    assert "application/json" in response.body["message"]
    assert table_items(stack, "UsersTable") == []
    assert cognito_emails(stack) == []


def test_json_with_a_charset_or_without_content_type_is_accepted(back_office, stack):
    with_charset = back_office.post(
        "/users",
        raw_body='{"name": "Ada", "email": "Ada@Example.COM"}',
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    without = back_office.post("/users", raw_body='{"name": "Bob", "email": "bob@example.com"}', headers={})

    assert with_charset.status == 201
    assert with_charset.body["email"] == "Ada@Example.COM"  # validated, echoed as written
    assert without.status == 201
    assert cognito_emails(stack) == ["Ada@Example.COM", "bob@example.com"]


@pytest.mark.parametrize(
    "raw_body", ['{"name": NaN, "email": "a@b.co"}', '{"name": "A", "email": "a@b.co", "n": ' + "9" * 5000 + "}"]
)
def test_json_that_python_accepts_but_the_standard_does_not_is_400(back_office, stack, raw_body):
    response = back_office.post("/users", raw_body=raw_body)

    assert response.status == 400
    assert table_items(stack, "UsersTable") == []
    assert cognito_emails(stack) == []


def test_an_email_the_user_pool_refuses_is_422_naming_it_and_stores_nothing(back_office, stack, monkeypatch):
    """Cognito has rules of its own for an email address (its length, for one): its refusal is the
    client's error, about that field."""
    refusal = InvalidParameterException("Invalid email address format.")
    with failing_backend_call(monkeypatch, CognitoIdpBackend, "admin_create_user", lambda *a, **k: True, refusal):
        response = back_office.post("/users", {"name": "Ada", "email": "ada@example.com"})

    assert response.status == 422
    assert response.body["details"] == [
        {"location": "body.email", "message": "the user pool does not accept this email address"}
    ]
    assert table_items(stack, "UsersTable") == []
    assert cognito_emails(stack) == []
