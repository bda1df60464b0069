"""User registration and lookup."""

from uuid import uuid4

from orders_domain.errors import NotFoundError
from orders_domain.models import NewUser, User, utc_now
from orders_domain.repositories import UsersRepository


def register_user(users: UsersRepository, new_user: NewUser) -> User:
    user = User(user_id=str(uuid4()), name=new_user.name, email=new_user.email, created_at=utc_now())
    users.add(user)
    return user


def find_user(users: UsersRepository, user_id: str) -> User:
    user = users.get(user_id)
    if user is None:
        raise NotFoundError(f"user {user_id} not found")
    return user
