"""Customer profiles: a customer reads their own, staff invite customers and read any profile."""

from typing import Annotated, Any

from api_docs import request_example
from api_settings import api_tables, back_office_settings
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.metrics import MetricUnit
from http_api import DocumentedRoutes
from identity import caller_of

from orders_domain.adapters.customer_accounts import CustomerAccounts
from orders_domain.models import Identifier, NewUser, User
from orders_domain.observability import metrics
from orders_domain.persistence.users import UsersRepository
from orders_domain.rules.users import find_user, invite_customer

storefront = Router()
back_office = Router()
profile = DocumentedRoutes(storefront, tag="profile", audience="customers")
customers = DocumentedRoutes(back_office, tag="users", audience="staff")
users = UsersRepository(api_tables().users_table)
NEW_CUSTOMER = {"name": "Mary Jackson", "email": "mary.jackson@example.com"}
SOME_USER = "user 8a3f0c52-6b1e-4c8e-9d1a-2f7b5e9c0d41"  # what a 404's example did not find


@profile.get("/me", User, 404, missing=SOME_USER)
def get_profile() -> dict[str, Any]:
    """Read my profile

    The signed-in customer's profile; `user_id` is the ID token's `sub`."""
    return find_user(users, caller_of(storefront.current_event).user_id).model_dump(mode="json")


@customers.post(
    "/users",
    User,
    400,
    409,
    415,
    status=201,
    success="Created and invited",
    conflict="a customer with the email mary.jackson@example.com exists already",
    invalid=("body.name", "String should have at least 1 character"),
)
def create_user(
    new_user: Annotated[NewUser, Body(openapi_examples=request_example("A new customer", NEW_CUSTOMER))],
) -> tuple[dict[str, Any], int]:
    """Invite a customer

    Creates a customer account in the user pool, which emails the customer an invitation with a
    temporary password, and the customer's profile."""
    user = invite_customer(CustomerAccounts(back_office_settings().user_pool_id), users, new_user)
    metrics.add_metric(name="UserCreated", unit=MetricUnit.Count, value=1)
    return user.model_dump(mode="json"), 201


@customers.get("/users/<user_id>", User, 404, missing=SOME_USER)
def get_user(user_id: Identifier) -> dict[str, Any]:
    """Read a customer's profile

    Any customer's profile, by user id (the `sub` of the customer's tokens)."""
    return find_user(users, user_id).model_dump(mode="json")
