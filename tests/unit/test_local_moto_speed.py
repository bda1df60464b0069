"""What the local stack's speed patches save (local_stack/moto_patches/speed.py), and that moto
answers as before: each definition parsed once for every stack and execution, whose tasks share
one client per service, an invalid definition still refused every time; each JSONPath parsed once
for every execution; one SNS signing key, each message verifying against its certificate; a
response class's actions listed once."""

import base64
import json
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from unittest.mock import patch

import boto3
import jsonpath_ng.ext.parser
import jsonpath_ng.parser
import pytest
from botocore.exceptions import ClientError
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from moto.core import utils
from moto.sns.models import rsa as moto_sns_rsa
from moto.sns.models import sns_backends
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

from local_stack.moto_patches.speed import (
    actions_listed_once,
    definitions_parsed_once,
    one_signing_key,
    paths_parsed_once,
    task_clients_reused,
)
from support.workflow import history, wait_for_execution

ROLE = "arn:aws:iam::123456789012:role/machine"


def test_a_definition_is_parsed_once_to_validate_it_and_an_invalid_one_is_refused_every_time(aws):
    sfn = aws.client("stepfunctions")
    # a definition no other test has (which could have been parsed before)
    valid = json.dumps({"Comment": str(uuid.uuid4()), "StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}})
    invalid = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Wander"}}})
    with (
        patch.object(AmazonStateLanguageParser, "parse", wraps=AmazonStateLanguageParser.parse) as parse,
        definitions_parsed_once(),
    ):
        for name in ("first", "second"):
            sfn.create_state_machine(name=name, definition=valid, roleArn=ROLE)
            with pytest.raises(ClientError) as refused:
                sfn.create_state_machine(name=f"{name}-invalid", definition=invalid, roleArn=ROLE)
            assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
            assert 'at "Wander"' in refused.value.response["Error"]["Message"]  # moto gives no error code
    parsed = [call.args[0] for call in parse.call_args_list]
    assert parsed.count(valid) == 1
    assert parsed.count(invalid) == 2
    assert [machine["name"] for machine in sfn.list_state_machines()["stateMachines"]] == ["first", "second"]


def test_executions_share_the_parsed_program_and_task_clients_and_each_counts_its_own_retries(
    stack, local_lambda, backoff
):
    """The program parsed once and the tasks' clients are shared by the executions: what an
    execution counts (a retrier's attempts) is its own, even when they run at once."""
    sfn = stack.client("stepfunctions")
    fails = {  # a table that does not exist: every attempt fails
        "Type": "Task",
        "Resource": "arn:aws:states:::dynamodb:getItem",
        "Parameters": {"TableName": "missing", "Key": {"id": {"S": "1"}}},
        "Retry": [{"ErrorEquals": ["States.ALL"], "MaxAttempts": 2, "IntervalSeconds": 1, "BackoffRate": 3}],
        "End": True,
    }
    definition = json.dumps({"Comment": str(uuid.uuid4()), "StartAt": "Fails", "States": {"Fails": fails}})
    with (
        patch.object(AmazonStateLanguageParser, "parse", wraps=AmazonStateLanguageParser.parse) as parse,
        definitions_parsed_once(),
        patch.object(boto3, "client", wraps=boto3.client) as make_client,
        task_clients_reused(),
    ):
        machine = sfn.create_state_machine(name="fails", definition=definition, roleArn=ROLE)["stateMachineArn"]
        with ThreadPoolExecutor(4) as pool:
            arns = list(
                pool.map(
                    lambda n: sfn.start_execution(stateMachineArn=machine, name=f"run-{n}")["executionArn"],
                    range(4),
                )
            )
        ended = [wait_for_execution(stack, arn) for arn in arns]

    assert [call.args[0] for call in parse.call_args_list].count(definition) == 1
    assert [call.kwargs["service_name"] for call in make_client.call_args_list] == ["dynamodb"]  # for 12 attempts
    assert [execution["status"] for execution in ended] == ["FAILED"] * 4
    for arn in arns:
        assert [event["type"] for event in history(stack, arn)].count("TaskFailed") == 3
    assert sorted(backoff) == [1.0] * 4 + [3.0] * 4


def test_each_path_is_parsed_once_for_every_execution_and_each_reads_its_own_input(stack, local_lambda):
    sfn = stack.client("stepfunctions")
    field = f"v{uuid.uuid4().hex}"  # paths no other test has (which could have been parsed before)
    path, result_path = f"$.{field}", f"$.{field}_doubled"
    doubles = {"Type": "Pass", "Parameters": {"twice.$": f"States.Array({path}, {path})"}, "ResultPath": result_path}
    definition = {"StartAt": "Doubles", "States": {"Doubles": {**doubles, "End": True}}}
    machine = sfn.create_state_machine(name="doubles", definition=json.dumps(definition), roleArn=ROLE)
    with (
        patch.object(jsonpath_ng.ext.parser, "parse", side_effect=slowly(jsonpath_ng.ext.parser.parse)) as parse,
        patch.object(jsonpath_ng.parser, "parse", side_effect=slowly(jsonpath_ng.parser.parse)) as parse_result_path,
        paths_parsed_once(),
    ):
        with ThreadPoolExecutor(3) as pool:
            arns = list(
                pool.map(
                    lambda n: sfn.start_execution(
                        stateMachineArn=machine["stateMachineArn"], name=f"run-{n}", input=json.dumps({field: n})
                    )["executionArn"],
                    range(3),
                )
            )
        ended = [wait_for_execution(stack, arn) for arn in arns]

    assert [json.loads(execution["output"]) for execution in ended] == [
        {field: n, f"{field}_doubled": {"twice": [n, n]}} for n in range(3)
    ]
    assert [call.args[0] for call in parse.call_args_list].count(path) == 1
    assert [call.args[0] for call in parse_result_path.call_args_list].count(result_path) == 1


def slowly(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    """A parse as slow as on a busy machine: executions reaching a new path together all miss the cache
    while the first parses it."""

    def parse_slowly(path: str) -> Any:
        time.sleep(0.05)
        return parse(path)

    return parse_slowly


def test_one_key_signs_for_every_subscription_and_each_message_verifies_against_its_certificate(aws):
    sns, sqs = aws.client("sns"), aws.client("sqs")
    topic = sns.create_topic(Name="signed")["TopicArn"]
    queues = [sqs.create_queue(QueueName=f"subscriber-{n}")["QueueUrl"] for n in range(2)]
    for url in queues:
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    with (
        patch.object(moto_sns_rsa, "generate_private_key", wraps=moto_sns_rsa.generate_private_key) as made,
        one_signing_key(),
    ):
        sns.publish(TopicArn=topic, Message="hello")

    certificates = []
    for url in queues:
        [message] = sqs.receive_message(QueueUrl=url)["Messages"]
        envelope = json.loads(message["Body"])
        key_name = envelope["SigningCertURL"].rsplit("/", 1)[1]  # what a subscriber downloads, in moto
        pem = sns_backends["123456789012"]["us-east-1"]._message_public_keys[key_name]
        certificate = x509.load_pem_x509_certificate(pem)
        signed = "".join(
            f"{name}\n{envelope[name]}\n" for name in ("Message", "MessageId", "Timestamp", "TopicArn", "Type")
        )
        certificate.public_key().verify(  # raises InvalidSignature when it does not verify
            base64.b64decode(envelope["Signature"]), signed.encode(), padding.PKCS1v15(), hashes.SHA256()
        )
        certificates.append(certificate)
    assert certificates[0].public_key() == certificates[1].public_key()
    assert made.call_count <= 1  # none when this process has signed before


def test_a_response_class_lists_its_actions_once(aws):
    sqs = aws.client("sqs")  # SQS's actions may have been listed before, in this process
    with (
        patch.object(utils.inspect, "getmembers", wraps=utils.inspect.getmembers) as listed,
        actions_listed_once(),
    ):
        names = [sqs.create_queue(QueueName=f"listed-{n}")["QueueUrl"].rsplit("/", 1)[1] for n in range(3)]
        assert [url.rsplit("/", 1)[1] for url in sqs.list_queues()["QueueUrls"]] == names

    assert len(listed.call_args_list) <= 1  # four requests
