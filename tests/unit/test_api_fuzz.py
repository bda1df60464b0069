"""No client input produces a 5xx: generated bodies, ids, queries and content types against every
route of both APIs (the storefront called by a customer, the back office by staff)."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ROUTES_BY_API = {
    "storefront": "GET /products/{id}, GET /me, POST /orders, GET /orders, GET /orders/{id}",
    "back_office": "POST /users, GET /users/{id}, PUT /inventory/{id}, GET /inventory/{id}, GET /orders, "
    "GET /orders/{id}",
}
ROUTES = [(api, *route.split()) for api, routes in ROUTES_BY_API.items() for route in routes.split(", ")]

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
shaped = st.fixed_dictionaries(
    {},
    optional={
        "name": json_values,
        "email": json_values | st.emails(),
        "quantity": json_values,
        "price": json_values,
        "user_id": json_values,
        "payment_method": json_values,
        "items": st.lists(
            st.fixed_dictionaries({}, optional={"product_id": json_values, "quantity": json_values}), max_size=30
        )
        | json_values,
    },
)
bodies = st.one_of(
    shaped.map(json.dumps),
    json_values.map(json.dumps),
    st.text(max_size=100),
    st.sampled_from(["", "NaN", '{"price": Infinity}', "1" * 5000, "[" * 500 + "]" * 500, '{"a": 1,}']),
)
ids = st.text(min_size=1, max_size=200).filter(lambda text: "/" not in text and "?" not in text)
content_types = st.sampled_from(
    [
        None,
        "application/json",
        "application/json; charset=utf-8",
        "text/plain",
        "application/jsonx",
        "application/x-www-form-urlencoded",
        "multipart/form-data",
        "multipart/form-data; boundary=x",
    ]
)
queries = st.dictionaries(
    st.sampled_from(["limit", "next", "status"]),
    st.text(max_size=40) | st.integers(-5, 200).map(str) | st.sampled_from(["PENDING", "CONFIRMED", "e30"]),
    max_size=3,
)


@pytest.mark.slow
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(route=st.sampled_from(ROUTES), body=bodies, identifier=ids, content_type=content_types, query=queries)
def test_no_client_input_is_answered_with_a_5xx(storefront, back_office, route, body, identifier, content_type, query):
    api, method, path = route
    client = storefront if api == "storefront" else back_office
    headers = {"Content-Type": content_type} if content_type else {}

    response = client.request(method, path.replace("{id}", identifier), raw_body=body, headers=headers, query=query)

    assert response.status < 500, (api, method, path, identifier, query, body, response.body)
    assert isinstance(response.body, dict)
    if response.status >= 400:
        assert isinstance(response.body["message"], str)
