"""POST /users and GET /users/{user_id} through ApiFunction's handler, on moto."""

import pytest

from support.aws import table_items


def test_create_user_returns_201_with_a_generated_id_and_stores_it(api, stack):
    response = api.post("/users", {"name": "Ada Lovelace", "email": "ada@example.com"})

    assert response.status == 201
    assert response.headers["Content-Type"] == "application/json"
    assert response.body == {
        "user_id": response.body["user_id"],
        "name": "Ada Lovelace",
        "email": "ada@example.com",
        "created_at": response.body["created_at"],
    }
    assert len(response.body["user_id"]) == 36
    [stored] = table_items(stack, "UsersTable")
    assert stored["user_id"] == response.body["user_id"]
    assert stored["email"] == "ada@example.com"


def test_get_user_returns_the_stored_user(api):
    created = api.post("/users", {"name": "Grace", "email": "grace@example.com"}).body

    response = api.get(f"/users/{created['user_id']}")

    assert response.status == 200
    assert response.body == created


def test_two_users_get_different_ids(api, stack):
    first = api.post("/users", {"name": "A", "email": "a@example.com"}).body
    second = api.post("/users", {"name": "A", "email": "a@example.com"}).body

    assert first["user_id"] != second["user_id"]
    assert len(table_items(stack, "UsersTable")) == 2


def test_unknown_user_is_404_json(api):
    response = api.get("/users/no-such-user")

    assert response.status == 404
    assert response.body == {"message": "user no-such-user not found"}


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
        ({"name": "Ada", "email": ["ada@example.com"]}, "body.email"),
    ],
)
def test_invalid_user_is_422_naming_the_field_and_stores_nothing(api, stack, body, field):
    response = api.post("/users", body)

    assert response.status == 422
    assert response.body["message"].startswith("invalid request")
    assert field in [detail["location"] for detail in response.body["details"]]
    assert table_items(stack, "UsersTable") == []


@pytest.mark.parametrize("raw_body", ["{not json", "", "[]", "null", '"text"'])
def test_body_that_is_not_a_json_object_is_a_4xx_json_error(api, stack, raw_body):
    response = api.post("/users", raw_body=raw_body)

    assert response.status in (400, 422)
    assert isinstance(response.body["message"], str)
    assert table_items(stack, "UsersTable") == []


def test_malformed_json_is_400(api):
    response = api.post("/users", raw_body='{"name": "Ada",')

    assert response.status == 400
    assert response.body == {"message": "request body is not valid JSON"}


def test_oversized_values_are_422_and_store_nothing(api, stack):
    # Every field is bounded and unknown fields are refused, so no large body gets past validation.
    response = api.post("/users", {"name": "Ada " * 100_000, "email": "ada@example.com"})

    assert response.status == 422
    assert table_items(stack, "UsersTable") == []


@pytest.mark.parametrize("user_id", ["x" * 129, "bad id", "a#b"])
def test_malformed_user_id_in_path_is_a_4xx_json_error(api, user_id):
    response = api.get(f"/users/{user_id}")

    # 422 from validation, or 404 where no route accepts such a segment at all ('#').
    assert response.status in (404, 422)
    assert isinstance(response.body["message"], str)


def test_unknown_route_and_method_are_404_json(api):
    assert api.get("/nothing").status == 404
    response = api.request("DELETE", "/users")
    assert response.status in (404, 405)
    assert "message" in response.body


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"]
)
def test_a_body_that_is_not_sent_as_json_is_415_and_stores_nothing(api, stack, content_type):
    body = '{"name": "Ada", "email": "ada@example.com"}'

    response = api.post("/users", raw_body=body, headers={"Content-Type": content_type})

    assert response.status == 415
    assert "application/json" in response.body["message"]
    assert table_items(stack, "UsersTable") == []


def test_json_with_a_charset_or_without_content_type_is_accepted(api):
    body = '{"name": "Ada", "email": "Ada@Example.COM"}'
    with_charset = api.post("/users", raw_body=body, headers={"Content-Type": "application/json; charset=utf-8"})

    assert with_charset.status == 201
    assert with_charset.body["email"] == "Ada@Example.COM"  # validated, echoed as written


@pytest.mark.parametrize(
    "raw_body", ['{"name": NaN, "email": "a@b.co"}', '{"name": "A", "email": "a@b.co", "n": ' + "9" * 5000 + "}"]
)
def test_json_that_python_accepts_but_the_standard_does_not_is_400(api, stack, raw_body):
    response = api.post("/users", raw_body=raw_body)

    assert response.status == 400
    assert table_items(stack, "UsersTable") == []
