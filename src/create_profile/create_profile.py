"""CreateProfileFunction: Cognito's post-confirmation trigger. A customer who confirms the sign-up
gets a profile at once, so GET /me and the order workflow's user check work on the first request."""

from typing import Any

from aws_lambda_powertools.utilities.data_classes import event_source
from aws_lambda_powertools.utilities.data_classes.cognito_user_pool_event import PostConfirmationTriggerEvent
from aws_lambda_powertools.utilities.typing import LambdaContext

from orders_domain.observability import logger
from orders_domain.persistence.users import UsersRepository
from orders_domain.rules.users import create_profile
from orders_domain.settings import UsersTable

settings = UsersTable.from_environment()
users = UsersRepository(settings.users_table)


@logger.inject_lambda_context
@event_source(data_class=PostConfirmationTriggerEvent)
def lambda_handler(event: PostConfirmationTriggerEvent, context: LambdaContext) -> dict[str, Any]:
    # Also sent after a confirmed password reset, which changes nothing here.
    if event.trigger_source == "PostConfirmation_ConfirmSignUp":
        attributes = event.request.user_attributes  # the pool's schema requires email and name
        create_profile(users, attributes["sub"], attributes["email"], attributes["name"])
        logger.info("profile created", user_id=attributes["sub"])
    return event.raw_event
