"""python -m local_stack.token EMAIL [--staff] [--name NAME]: an ID token of the running local stack's
user pool (make token), through the ordinary Cognito API at its AWS endpoint: sign-up, confirmation
(which runs the post-confirmation trigger, as Cognito does), the staff group when asked, then
initiate-auth. Local only: the password is derived from the email, so the same command logs in again.
"""

import argparse
import hashlib
import json
import sys
from collections.abc import Callable

import boto3

from local_stack.cloudformation.template import OUTPUTS_FILE


def local_password(email: str) -> str:
    return "Local-" + hashlib.sha256(email.encode()).hexdigest()[:16] + "!"


def id_token(
    outputs: dict[str, str], email: str, name: str, staff: bool, before_confirmation: Callable[[], None] = lambda: None
) -> str:
    """The user's ID token; a new user is signed up and confirmed first (`before_confirmation` in between)."""
    idp = boto3.client(
        "cognito-idp",
        endpoint_url=outputs["AwsEndpointUrl"],
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    pool, client = outputs["UserPoolId"], outputs["UserPoolClientId"]
    password = local_password(email)
    try:
        idp.sign_up(
            ClientId=client, Username=email, Password=password, UserAttributes=[{"Name": "name", "Value": name}]
        )
        before_confirmation()
        idp.admin_confirm_sign_up(UserPoolId=pool, Username=email)
    except idp.exceptions.UsernameExistsException:
        pass  # signed up before: log in again
    if staff:
        idp.admin_add_user_to_group(UserPoolId=pool, Username=email, GroupName="staff")
    result = idp.initiate_auth(
        ClientId=client, AuthFlow="USER_PASSWORD_AUTH", AuthParameters={"USERNAME": email, "PASSWORD": password}
    )
    return str(result["AuthenticationResult"]["IdToken"])


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m local_stack.token", description=__doc__)
    parser.add_argument("email")
    parser.add_argument("--name", default="Local Customer")
    parser.add_argument("--staff", action="store_true", help="also a member of the staff group")
    arguments = parser.parse_args()
    if not OUTPUTS_FILE.exists():
        sys.exit(f"{OUTPUTS_FILE} not found: start the local stack first (make dev)")
    outputs = json.loads(OUTPUTS_FILE.read_text())
    print(id_token(outputs, arguments.email, arguments.name, arguments.staff))


if __name__ == "__main__":
    main()
