"""/users"""

from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.metrics import MetricUnit

from orders_domain.models import Identifier, NewUser
from orders_domain.observability import metrics
from orders_domain.repositories import UsersRepository
from orders_domain.settings import get_settings
from orders_domain.users import find_user, register_user

router = Router()
users = UsersRepository(get_settings().users_table)


@router.post("/users")
def create_user(new_user: NewUser) -> tuple[dict[str, Any], int]:
    user = register_user(users, new_user)
    metrics.add_metric(name="UserCreated", unit=MetricUnit.Count, value=1)
    return user.model_dump(mode="json"), 201


@router.get("/users/<user_id>")
def get_user(user_id: Identifier) -> dict[str, Any]:
    return find_user(users, user_id).model_dump(mode="json")
