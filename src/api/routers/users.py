"""Customer profiles: a customer reads their own, staff invite customers and read any profile."""

from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.metrics import MetricUnit
from http_api import documented
from identity import caller_of

from orders_domain.accounts import CustomerAccounts
from orders_domain.models import Identifier, NewUser, User
from orders_domain.observability import metrics
from orders_domain.repositories import UsersRepository
from orders_domain.settings import get_settings
from orders_domain.users import find_user, invite_customer

storefront = Router()
back_office = Router()
settings = get_settings()
users = UsersRepository(settings.users_table)


@storefront.get("/me", **documented(200, User, 401, 404))
def get_profile() -> dict[str, Any]:
    return find_user(users, caller_of(storefront.current_event).user_id).model_dump(mode="json")


@back_office.post("/users", **documented(201, User, 400, 401, 403, 409, 415, description="Created and invited"))
def create_user(new_user: NewUser) -> tuple[dict[str, Any], int]:
    user = invite_customer(CustomerAccounts(settings.require("user_pool_id")), users, new_user)
    metrics.add_metric(name="UserCreated", unit=MetricUnit.Count, value=1)
    return user.model_dump(mode="json"), 201


@back_office.get("/users/<user_id>", **documented(200, User, 401, 403, 404))
def get_user(user_id: Identifier) -> dict[str, Any]:
    return find_user(users, user_id).model_dump(mode="json")
