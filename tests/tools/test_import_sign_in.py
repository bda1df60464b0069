"""`make import --stack NAME`: the command finds a deployed stack's back office and pool client in
its outputs and signs in as the staff member (moto's CloudFormation and Cognito stand in for AWS)."""

import base64
import json

import pytest

from tools.import_stock import ImportFailed, deployed_back_office

OUTPUTS_ONLY = {
    "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
    "Outputs": {
        "BackOfficeApiUrl": {"Value": "https://abc123.execute-api.us-east-1.amazonaws.com/dev"},
        "UserPoolClientId": {"Value": "{client}"},
    },
}


@pytest.fixture
def deployed(aws):
    idp = aws.client("cognito-idp")
    pool = idp.create_user_pool(PoolName="orders", UsernameAttributes=["email"])["UserPool"]["Id"]
    client = idp.create_user_pool_client(
        UserPoolId=pool, ClientName="app", ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
    )["UserPoolClient"]["ClientId"]
    idp.admin_create_user(UserPoolId=pool, Username="grace@example.com")
    idp.admin_set_user_password(UserPoolId=pool, Username="grace@example.com", Password="Str0ng-Pass!", Permanent=True)
    template = json.dumps(OUTPUTS_ONLY).replace("{client}", client)
    aws.client("cloudformation").create_stack(StackName="orders-prod", TemplateBody=template)
    return client


def _claims(token):
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def test_a_deployed_stack_is_reached_through_its_outputs_with_the_staff_members_id_token(deployed):
    back_office = deployed_back_office("orders-prod", "grace@example.com", "Str0ng-Pass!")

    assert back_office.url == "https://abc123.execute-api.us-east-1.amazonaws.com/dev"
    claims = _claims(back_office.token)
    assert (claims["token_use"], claims["aud"], claims["email"]) == ("id", deployed, "grace@example.com")


def test_a_wrong_password_ends_with_the_sign_in_refused(deployed):
    with pytest.raises(ImportFailed, match=r"^sign-in refused for grace@example.com: "):
        deployed_back_office("orders-prod", "grace@example.com", "not-the-password")
