"""Identity to profile: a customer who confirms the sign-up has a profile at once (Cognito's
post-confirmation trigger, which the local adapter runs as Cognito does); staff invite customers."""

import pytest
from botocore.exceptions import ClientError
from moto.dynamodb.models import DynamoDBBackend

from support.api import id_token_claims
from support.aws import ServerFaultError, failing_backend_call, table_items

PASSWORD = "Secret-Passw0rd!"


def sign_up(stack, email, name):
    idp = stack.client("cognito-idp")
    attributes = [{"Name": "name", "Value": name}]
    return idp.sign_up(
        ClientId=stack.ref("UserPoolClient"), Username=email, Password=PASSWORD, UserAttributes=attributes
    )["UserSub"]


def test_a_confirmed_sign_up_has_a_profile_and_get_me_works_on_the_first_request(storefront, stack, local_lambda):
    sub = sign_up(stack, "lin@example.com", "Lin")
    assert [user["user_id"] for user in table_items(stack, "UsersTable")].count(sub) == 0

    stack.client("cognito-idp").admin_confirm_sign_up(UserPoolId=stack.ref("UserPool"), Username="lin@example.com")
    me = storefront.as_caller(id_token_claims(sub, "lin@example.com", "Lin")).get("/me")

    assert me.status == 200
    assert me.body == {"user_id": sub, "email": "lin@example.com", "name": "Lin", "created_at": me.body["created_at"]}


def test_the_customers_own_confirmation_with_the_emailed_code_runs_the_trigger_too(stack, local_lambda):
    sub = sign_up(stack, "kim@example.com", "Kim")

    stack.client("cognito-idp").confirm_sign_up(
        ClientId=stack.ref("UserPoolClient"), Username="kim@example.com", ConfirmationCode="123456"
    )

    [profile] = [user for user in table_items(stack, "UsersTable") if user["user_id"] == sub]
    assert (profile["email"], profile["name"]) == ("kim@example.com", "Kim")


def test_a_repeated_confirmation_keeps_the_first_profile(stack, local_lambda, function):
    sub = sign_up(stack, "max@example.com", "Max")
    stack.client("cognito-idp").admin_confirm_sign_up(UserPoolId=stack.ref("UserPool"), Username="max@example.com")
    [first] = [user for user in table_items(stack, "UsersTable") if user["user_id"] == sub]
    event = {
        "version": "1",
        "region": "us-east-1",
        "userPoolId": stack.ref("UserPool"),
        "userName": sub,
        "callerContext": {"awsSdkVersion": "x", "clientId": stack.ref("UserPoolClient")},
        "triggerSource": "PostConfirmation_ConfirmSignUp",
        "request": {"userAttributes": {"sub": sub, "email": "max@example.com", "name": "Someone else"}},
        "response": {},
    }

    assert function("CreateProfileFunction").invoke(event) == event

    [again] = [user for user in table_items(stack, "UsersTable") if user["user_id"] == sub]
    assert again == first


def test_a_password_reset_confirmation_writes_no_profile(stack, local_lambda, function):
    event = {
        "version": "1",
        "region": "us-east-1",
        "userPoolId": stack.ref("UserPool"),
        "userName": "someone",
        "callerContext": {"awsSdkVersion": "x", "clientId": stack.ref("UserPoolClient")},
        "triggerSource": "PostConfirmation_ConfirmForgotPassword",
        "request": {"userAttributes": {"sub": "s-1", "email": "s@example.com", "name": "S"}},
        "response": {},
    }

    function("CreateProfileFunction").invoke(event)

    assert table_items(stack, "UsersTable") == []


def test_a_failing_trigger_fails_the_confirmation_as_cognito_does(stack, local_lambda, monkeypatch):
    sign_up(stack, "eva@example.com", "Eva")
    with (
        failing_backend_call(monkeypatch, DynamoDBBackend, "put_item", lambda *a, **k: True, ServerFaultError()),
        pytest.raises(ClientError) as refused,
    ):
        stack.client("cognito-idp").admin_confirm_sign_up(UserPoolId=stack.ref("UserPool"), Username="eva@example.com")

    assert "PostConfirmation failed" in str(refused.value)
    assert table_items(stack, "UsersTable") == []


def test_staff_invite_a_customer_account_with_its_profile(back_office, stack):
    response = back_office.post("/users", {"name": "Ada", "email": "ada@example.com"})

    assert response.status == 201
    user = stack.client("cognito-idp").admin_get_user(UserPoolId=stack.ref("UserPool"), Username="ada@example.com")
    attributes = {attribute["Name"]: attribute["Value"] for attribute in user["UserAttributes"]}
    assert attributes["sub"] == response.body["user_id"]
    assert (attributes["email"], attributes["name"]) == ("ada@example.com", "Ada")
    assert user["UserStatus"] == "FORCE_CHANGE_PASSWORD"  # invited: the temporary password was emailed
    assert [profile["user_id"] for profile in table_items(stack, "UsersTable")] == [attributes["sub"]]


def test_an_invitation_whose_profile_cannot_be_stored_leaves_no_account_so_a_retry_works(
    back_office, stack, monkeypatch
):
    with failing_backend_call(monkeypatch, DynamoDBBackend, "put_item", lambda *a, **k: True, ServerFaultError()):
        failed = back_office.post("/users", {"name": "Ada", "email": "ada@example.com"})
    retried = back_office.post("/users", {"name": "Ada", "email": "ada@example.com"})

    assert failed.status == 500
    assert failed.body == {"message": "internal error"}
    assert retried.status == 201
    assert [profile["user_id"] for profile in table_items(stack, "UsersTable")] == [retried.body["user_id"]]
