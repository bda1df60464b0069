"""Resources the local stack makes from the template as CloudFormation would: the payment
provider's API key secret (its value generated as Secrets Manager generates it) and the SES
identity that confirmation emails are sent from, so that sending works locally and the mail is
readable from moto."""

import json
import re
import textwrap

import pytest
from botocore.exceptions import ClientError
from moto.ses.models import ses_backends

from local_stack.cloudformation.deploy import ACCOUNT_ID, deploy
from local_stack.cloudformation.template import REGION, load
from support.workflow import wait_for_execution


def sent_messages():
    return ses_backends[ACCOUNT_ID][REGION].sent_messages


@pytest.fixture
def sender(stack):
    [identity] = stack.template.of_type("AWS::SES::EmailIdentity")
    assert stack.ref(identity) == stack.template.parameters["SenderEmail"] == "orders@example.com"
    return stack.ref(identity)


def test_the_payment_api_key_is_a_generated_secret_referenced_by_its_arn(stack):
    arn = stack.ref("PaymentApiKey")

    value = stack.client("secretsmanager").get_secret_value(SecretId=arn)["SecretString"]

    assert re.fullmatch(r"arn:aws:secretsmanager:us-east-1:123456789012:secret:orders-local-PaymentApiKey-\w{6}", arn)
    assert re.fullmatch(r"[A-Za-z0-9]{40}", value)  # PasswordLength: 40, ExcludePunctuation: true


def test_a_secret_keeps_its_name_and_value_or_fills_its_json_template(tmp_path, aws):
    template = tmp_path / "template.yaml"
    template.write_text(
        textwrap.dedent(
            """\
            Resources:
              Given:
                Type: AWS::SecretsManager::Secret
                Properties:
                  Name: shop/given
                  SecretString: '{"user": "shop"}'
              Credentials:
                Type: AWS::SecretsManager::Secret
                Properties:
                  GenerateSecretString:
                    SecretStringTemplate: '{"user": "shop"}'
                    GenerateStringKey: password
                    PasswordLength: 12
                    ExcludeCharacters: '"@/\\'
            """
        )
    )

    stack = deploy(load(template), aws)

    secrets = aws.client("secretsmanager")
    given = secrets.describe_secret(SecretId=stack.ref("Given"))
    assert (given["Name"], stack.get_att("Given", "Id")) == ("shop/given", given["ARN"])
    assert secrets.get_secret_value(SecretId="shop/given")["SecretString"] == '{"user": "shop"}'
    generated = json.loads(secrets.get_secret_value(SecretId=stack.ref("Credentials"))["SecretString"])
    assert secrets.describe_secret(SecretId=stack.ref("Credentials"))["Name"] == "orders-local-Credentials"
    assert sorted(generated) == ["password", "user"]
    assert generated["user"] == "shop"
    assert len(generated["password"]) == 12
    assert not set(generated["password"]) & set('"@/\\')


def test_mail_from_the_sender_identity_is_sent_and_readable_from_moto(stack, sender):
    stack.client("sesv2").send_email(
        FromEmailAddress=sender,
        Destination={"ToAddresses": ["ada@example.com"]},
        Content={"Simple": {"Subject": {"Data": "Order o-1 confirmed"}, "Body": {"Text": {"Data": "o-1"}}}},
    )

    [message] = sent_messages()
    assert (message.source, message.destinations, message.subject) == (
        "orders@example.com",
        {"ToAddresses": ["ada@example.com"]},
        "Order o-1 confirmed",
    )


def test_mail_from_an_address_that_is_no_identity_is_rejected_as_by_ses(stack, sender):
    with pytest.raises(ClientError) as refusal:
        stack.client("sesv2").send_email(
            FromEmailAddress="someone@else.example",
            Destination={"ToAddresses": ["ada@example.com"]},
            Content={"Simple": {"Subject": {"Data": "hi"}, "Body": {"Text": {"Data": "hi"}}}},
        )

    assert refusal.value.response["Error"]["Code"] == "MessageRejected"
    assert sent_messages() == []


def test_a_workflow_sends_mail_from_the_identity_through_aws_sdk_sesv2(stack, sender):
    definition = {
        "StartAt": "Email",
        "States": {
            "Email": {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:sesv2:sendEmail",
                "Parameters": {
                    "FromEmailAddress": sender,
                    "Destination": {"ToAddresses.$": "States.Array($.email)"},
                    "Content": {
                        "Simple": {
                            "Subject": {"Data.$": "States.Format('Order {} confirmed', $.order_id)"},
                            "Body": {"Text": {"Data": "Thank you."}},
                        }
                    },
                },
                "End": True,
            }
        },
    }
    sfn = stack.client("stepfunctions")
    arn = sfn.create_state_machine(
        name="send-confirmation",
        definition=json.dumps(definition),
        roleArn="arn:aws:iam::123456789012:role/local-ses",
    )["stateMachineArn"]

    execution = sfn.start_execution(
        stateMachineArn=arn, name="o-1", input=json.dumps({"order_id": "o-1", "email": "ada@example.com"})
    )

    assert wait_for_execution(stack, execution["executionArn"])["status"] == "SUCCEEDED"
    [message] = sent_messages()
    assert (message.source, message.destinations["ToAddresses"], message.subject) == (
        "orders@example.com",
        ["ada@example.com"],
        "Order o-1 confirmed",
    )
