"""Least privilege, proven rather than claimed: the recorder.

Every AWS request that a function's code or the state machine's tasks make during the tests is
recorded (a botocore hook), mapped to the IAM action and resource ARN it needs, and evaluated with
moto's IAM policy evaluator against that principal's own role policies from the transformed
template. A request its role does not allow fails the test that made it.

The run's calls are written to RUN_FILE (support/least_privilege_run.py), which the judge of the other way round
reads after the whole suite (tools/least_privilege.py, make test): no grant that no call needed.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from moto.iam.access_control import IAMPolicy, PermissionResult
from moto.stepfunctions.parser.models import stepfunctions_parser_backends

from local_stack.cloudformation.deploy import ACCOUNT_ID, Stack
from local_stack.cloudformation.template import REGION
from local_stack.lambda_runtime.functions import running
from support.least_privilege_run import Call
from support.workflow import running_execution

MOTO_STEP_FUNCTIONS_KEY = "ak"  # the access key of the clients moto's Step Functions tasks use
_TRANSACT_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}


def _arn(service: str, resource: str) -> str:
    return f"arn:aws:{service}:{REGION}:{ACCOUNT_ID}:{resource}"


def iam_requests(service: str, operation: str, params: dict[str, Any]) -> list[tuple[str, str]]:  # noqa: PLR0911, PLR0912
    """The (IAM action, resource ARN) pairs that one API call is authorised by."""
    if service == "dynamodb":
        if operation == "TransactWriteItems":
            return [
                (f"dynamodb:{_TRANSACT_ACTIONS[kind]}", _arn("dynamodb", f"table/{body['TableName']}"))
                for item in params["TransactItems"]
                for kind, body in item.items()
            ]
        if operation in ("BatchGetItem", "BatchWriteItem"):
            return [(f"dynamodb:{operation}", _arn("dynamodb", f"table/{table}")) for table in params["RequestItems"]]
        index = f"/index/{params['IndexName']}" if "IndexName" in params else ""
        return [(f"dynamodb:{operation}", _arn("dynamodb", f"table/{params['TableName']}{index}"))]
    if service == "sqs":
        return [(f"sqs:{operation}", _arn("sqs", params["QueueUrl"].rsplit("/", 1)[1]))]
    if service == "sns":
        return [(f"sns:{operation}", params["TopicArn"])]
    if service == "events":
        buses = {entry.get("EventBusName", "default") for entry in params.get("Entries", [])}
        return [
            (f"events:{operation}", bus if bus.startswith("arn:") else _arn("events", f"event-bus/{bus}"))
            for bus in buses
        ]
    if service == "sfn":
        if "taskToken" in params:  # SendTaskSuccess/Failure: authorised on the token's state machine
            return [(f"states:{operation}", _state_machine_of_token(params["taskToken"]))]
        if "executionArn" in params:  # Describe/StopExecution: on the execution itself
            return [(f"states:{operation}", params["executionArn"])]
        return [(f"states:{operation}", params["stateMachineArn"])]
    if service == "s3":  # object operations, on the object
        return [(f"s3:{operation}", f"arn:aws:s3:::{params['Bucket']}/{params['Key']}")]
    if service == "secretsmanager":
        return [(f"secretsmanager:{operation}", params["SecretId"])]
    if service == "email":  # SESv2: IAM knows its actions as ses:*, on the sending identity
        return [(f"ses:{operation}", _arn("ses", f"identity/{params['FromEmailAddress']}"))]
    if service == "cognito-idp":
        return [(f"cognito-idp:{operation}", _arn("cognito-idp", f"userpool/{params['UserPoolId']}"))]
    if service == "lambda" and operation == "Invoke":
        name = params["FunctionName"]
        return [("lambda:InvokeFunction", name if name.startswith("arn:") else _arn("lambda", f"function:{name}"))]
    return [(f"{service}:{operation}", "*")]


class Recorder:
    def __init__(self) -> None:
        self.stack: Stack | None = None
        self.calls: set[Call] = set()
        self.denied: list[Call | str] = []
        self._lock = threading.Lock()
        self._api_params = threading.local()

    def before_parameter_build(self, params: dict[str, Any], **_: Any) -> None:
        """The call's API parameters (`before-call` sees only the serialized request)."""
        self._api_params.value = dict(params)

    def before_call(self, model: Any, request_signer: Any = None, **_: Any) -> None:
        """Never raises into the SDK: a request it cannot map fails the test instead."""
        try:
            self._record(model, getattr(self._api_params, "value", {}), request_signer)
        except Exception as error:
            with self._lock:
                self.denied.append(f"cannot map {model.service_model.service_name}:{model.name}: {error!r}")

    def _record(self, model: Any, params: dict[str, Any], request_signer: Any) -> None:
        stack = self.stack
        if stack is None:
            return
        principal = getattr(running, "function", None)
        if principal is None and _access_key(request_signer) == MOTO_STEP_FUNCTIONS_KEY:
            principal = _calling_state_machine(stack)
        if principal is None:
            return  # the test's own set-up and checks
        service = model.service_model.endpoint_prefix if model.service_model.endpoint_prefix != "states" else "sfn"
        for action, resource in iam_requests(service, model.name, params):
            call = Call(principal, action, resource)
            with self._lock:
                self.calls.add(call)
                if not is_allowed(role_policies(stack, principal), action, resource):
                    self.denied.append(call)


def _calling_state_machine(stack: Stack) -> str | None:
    """The logical id of the state machine whose task makes this call: the execution's context
    object, held by the evaluation frames on this thread (a Map iteration's thread too)."""
    env = running_execution()
    if env is None:
        return None
    arn = env.states.context_object.context_object_data["StateMachine"]["Id"]
    return next(
        (name for name in stack.template.of_type("AWS::StepFunctions::StateMachine") if stack.ref(name) == arn), None
    )


def _access_key(request_signer: Any) -> str | None:
    credentials = getattr(request_signer, "_credentials", None)
    return getattr(credentials, "access_key", None)


def role_policies(stack: Stack, principal: str) -> list[dict[str, Any]]:
    """The inline policy documents of the principal's role, resolved to this stack's ARNs."""
    properties = stack.template.properties(principal)
    role_reference = properties.get("Role") or properties.get("RoleArn")
    role = stack.template.properties(role_reference["Fn::GetAtt"][0])
    return [stack.resolve(policy["PolicyDocument"]) for policy in role.get("Policies", [])]


def _state_machine_of_token(token: str) -> str:
    """The state machine whose execution issued the task token (moto keeps the token's callback)."""
    backend = stepfunctions_parser_backends[ACCOUNT_ID][REGION]
    for machine in backend.state_machines:
        for execution in machine.executions:
            worker = getattr(execution, "exec_worker", None)
            if worker is not None and worker.env.callback_pool_manager.get(token) is not None:
                return str(machine.arn)
    return "*"  # a token no execution knows: Step Functions refuses it whatever the grant


def is_allowed(policies: list[dict[str, Any]], action: str, resource: str) -> bool:
    results = [IAMPolicy(json.dumps(policy)).is_action_permitted(action, resource) for policy in policies]
    return PermissionResult.PERMITTED in results and PermissionResult.DENIED not in results


RECORDER = Recorder()
