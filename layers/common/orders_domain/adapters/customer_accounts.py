"""Customer accounts in the Cognito user pool: the identity behind every profile."""

from __future__ import annotations

from orders_domain.adapters import aws_clients
from orders_domain.errors import ConflictError, InvalidField


class CustomerAccounts:
    def __init__(self, user_pool_id: str) -> None:
        self.user_pool_id = user_pool_id

    def invite(self, email: str, name: str) -> str:
        """Create the account (Cognito emails the invitation with a temporary password); its sub."""
        client = aws_clients.cognito()
        try:
            response = client.admin_create_user(
                UserPoolId=self.user_pool_id,
                Username=email,
                UserAttributes=[
                    {"Name": "email", "Value": email},
                    {"Name": "email_verified", "Value": "true"},
                    {"Name": "name", "Value": name},
                ],
                DesiredDeliveryMediums=["EMAIL"],
            )
        except client.exceptions.UsernameExistsException as error:
            raise ConflictError(f"a customer with the email {email} exists already") from error
        except client.exceptions.InvalidParameterException as error:
            raise InvalidField("email", "the user pool does not accept this email address") from error
        attributes = {attribute["Name"]: attribute["Value"] for attribute in response["User"].get("Attributes", [])}
        return attributes["sub"]

    def remove(self, email: str) -> None:
        aws_clients.cognito().admin_delete_user(UserPoolId=self.user_pool_id, Username=email)
