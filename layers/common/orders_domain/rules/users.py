"""Customer profiles: created when a customer confirms a sign-up, or invited by staff."""

from orders_domain.adapters.customer_accounts import CustomerAccounts
from orders_domain.errors import NotFoundError
from orders_domain.models import NewUser, User, utc_now
from orders_domain.persistence.users import UsersRepository


def create_profile(users: UsersRepository, user_id: str, email: str, name: str) -> User:
    """Store the profile of a confirmed customer; a repeated confirmation keeps the first one."""
    user = User(user_id=user_id, name=name, email=email, created_at=utc_now())
    users.add(user)
    return user


def invite_customer(accounts: CustomerAccounts, users: UsersRepository, new_user: NewUser) -> User:
    """A customer account created by staff, with its profile. When the profile cannot be stored the
    account goes too, so that a retry is not refused as a duplicate email."""
    user_id = accounts.invite(new_user.email, new_user.name)
    try:
        return create_profile(users, user_id, new_user.email, new_user.name)
    except Exception:
        accounts.remove(new_user.email)
        raise


def find_user(users: UsersRepository, user_id: str) -> User:
    user = users.get(user_id)
    if user is None:
        raise NotFoundError(f"user {user_id} not found")
    return user
