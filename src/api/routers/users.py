"""Customer profiles: a customer reads their own, staff invite customers and read any profile."""

from typing import Annotated, Any

from api_docs import request_example
from api_settings import api_tables, back_office_settings
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.metrics import MetricUnit
from http_api import NOT_AN_ID, documented
from identity import caller_of

from orders_domain.adapters.customer_accounts import CustomerAccounts
from orders_domain.models import Identifier, NewUser, User
from orders_domain.observability import metrics
from orders_domain.persistence.users import UsersRepository
from orders_domain.rules.users import find_user, invite_customer

storefront = Router()
back_office = Router()
users = UsersRepository(api_tables().users_table)
NEW_CUSTOMER = {"name": "Mary Jackson", "email": "mary.jackson@example.com"}


@storefront.get(
    "/me",
    **documented(
        200,
        User,
        401,
        404,
        tag="profile",
        summary="Read my profile",
        description="The signed-in customer's profile; `user_id` is the ID token's `sub`.",
        missing="user 8a3f0c52-6b1e-4c8e-9d1a-2f7b5e9c0d41",
        invalid=None,
    ),
)
def get_profile() -> dict[str, Any]:
    return find_user(users, caller_of(storefront.current_event).user_id).model_dump(mode="json")


@back_office.post(
    "/users",
    **documented(
        201,
        User,
        400,
        401,
        403,
        409,
        415,
        tag="users",
        summary="Invite a customer",
        description="Creates a customer account in the user pool, which emails the customer an invitation "
        "with a temporary password, and the customer's profile.",
        success="Created and invited",
        conflict="a customer with the email mary.jackson@example.com exists already",
        invalid=("body.name", "String should have at least 1 character"),
    ),
)
def create_user(
    new_user: Annotated[NewUser, Body(openapi_examples=request_example("A new customer", NEW_CUSTOMER))],
) -> tuple[dict[str, Any], int]:
    user = invite_customer(CustomerAccounts(back_office_settings().user_pool_id), users, new_user)
    metrics.add_metric(name="UserCreated", unit=MetricUnit.Count, value=1)
    return user.model_dump(mode="json"), 201


@back_office.get(
    "/users/<user_id>",
    **documented(
        200,
        User,
        401,
        403,
        404,
        tag="users",
        summary="Read a customer's profile",
        description="Any customer's profile, by user id (the `sub` of the customer's tokens).",
        missing="user 8a3f0c52-6b1e-4c8e-9d1a-2f7b5e9c0d41",
        invalid=("path.user_id", NOT_AN_ID),
    ),
)
def get_user(user_id: Identifier) -> dict[str, Any]:
    return find_user(users, user_id).model_dump(mode="json")
