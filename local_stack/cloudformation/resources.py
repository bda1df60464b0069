"""How the local stack creates each type of resource of the template in moto, as CloudFormation
would: what it calls, and the attributes (Ref, Arn, ...) that the template's references resolve to.
A type not listed here is recorded only (nothing to create locally)."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from local_stack.cloudformation.template import REGION
from local_stack.cloudwatch.alarms import metric_alarm

if TYPE_CHECKING:
    from local_stack.cloudformation.deploy import Stack

type Creator = Callable[[Stack, str, dict[str, Any]], dict[str, Any]]  # lazy: Stack is imported for types only


def record_only(stack: Stack, logical_id: str, properties: dict[str, Any]) -> dict[str, Any]:
    """A resource that only AWS would act on (API stage, permissions): nothing to create."""
    return {"Ref": stack.physical_name(logical_id), "Properties": properties, "RecordedOnly": True}


def _table(stack: Stack, logical_id: str, properties: dict[str, Any]) -> dict[str, Any]:
    name = properties.get("TableName") or stack.physical_name(logical_id, 255)
    keys = ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes", "StreamSpecification")
    arguments = {key: properties[key] for key in keys if key in properties}
    if "StreamSpecification" in arguments:
        arguments["StreamSpecification"] = {"StreamEnabled": True, **arguments["StreamSpecification"]}
    dynamodb = stack.client("dynamodb")
    description = dynamodb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST", **arguments)
    ttl = properties.get("TimeToLiveSpecification")
    if ttl:
        dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)
    table = description["TableDescription"]
    return {"Ref": name, "Arn": table["TableArn"], "StreamArn": table.get("LatestStreamArn")}


def _queue(stack: Stack, logical_id: str, properties: dict[str, Any]) -> dict[str, Any]:
    fifo = bool(properties.get("FifoQueue"))
    name = properties.get("QueueName") or stack.physical_name(logical_id, 75) + (".fifo" if fifo else "")
    attributes = {
        key: json.dumps(value)
        if isinstance(value, dict)
        else str(value).lower()
        if isinstance(value, bool)
        else str(value)
        for key, value in properties.items()
        if key not in ("QueueName", "Tags", "SqsManagedSseEnabled", "KmsMasterKeyId", "KmsDataKeyReusePeriodSeconds")
    }
    url = stack.client("sqs").create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    return {"Ref": url, "Arn": stack.arn("sqs", name), "QueueName": name, "QueueUrl": url}


def _topic(stack: Stack, logical_id: str, properties: dict[str, Any]) -> dict[str, Any]:
    name = properties.get("TopicName") or stack.physical_name(logical_id, 256)
    arn = stack.client("sns").create_topic(Name=name)["TopicArn"]
    return {"Ref": arn, "TopicArn": arn, "TopicName": name}


def _subscription(stack: Stack, logical_id: str, properties: dict[str, Any]) -> dict[str, Any]:
    attributes = {}
    if "FilterPolicy" in properties:
        attributes["FilterPolicy"] = json.dumps(properties["FilterPolicy"])
    if properties.get("RawMessageDelivery"):
        attributes["RawMessageDelivery"] = "true"
    arn = stack.client("sns").subscribe(
        TopicArn=properties["TopicArn"],
        Protocol=properties["Protocol"],
        Endpoint=properties["Endpoint"],
        Attributes=attributes,
    )["SubscriptionArn"]
    return {"Ref": arn}


def _event_bus(stack: Stack, logical_id: str, properties: dict[str, Any]) -> dict[str, Any]:
    name = properties["Name"]
    arn = stack.client("events").create_event_bus(Name=name)["EventBusArn"]
    return {"Ref": name, "Name": name, "Arn": arn}


def _rule(stack: Stack, logical_id: str, properties: dict[str, Any]) -> dict[str, Any]:
    events = stack.client("events")
    name = properties.get("Name") or stack.physical_name(logical_id)
    bus = properties.get("EventBusName", "default")
    arn = events.put_rule(
        Name=name,
        EventBusName=bus,
        EventPattern=json.dumps(properties["EventPattern"]),
        State=properties.get("State", "ENABLED"),
    )["RuleArn"]
    targets = [{key: value for key, value in target.items()} for target in properties.get("Targets", [])]
    if targets:
        events.put_targets(Rule=name, EventBusName=bus, Targets=targets)
    return {"Ref": name, "Arn": arn, "Properties": properties}


def _role(stack: Stack, logical_id: str, properties: dict[str, Any]) -> dict[str, Any]:
    name = properties.get("RoleName") or stack.physical_name(logical_id)
    arn = stack.client("iam").create_role(
        RoleName=name, AssumeRolePolicyDocument=json.dumps(properties["AssumeRolePolicyDocument"])
    )["Role"]["Arn"]
    return {"Ref": name, "Arn": arn, "Properties": properties}


def _layer(stack: Stack, logical_id: str, properties: dict[str, Any]) -> dict[str, Any]:
    return {"Ref": stack.arn("lambda", f"layer:{stack.physical_name(logical_id)}:1"), "Properties": properties}


_EMPTY_ZIP = io.BytesIO()
with zipfile.ZipFile(_EMPTY_ZIP, "w") as archive:
    archive.writestr("local.txt", "code runs from the project folder")


def _function(stack: Stack, logical_id: str, properties: dict[str, Any]) -> dict[str, Any]:
    # Registered in moto so that Step Functions tasks and event sources can address it; the local
    # runtime runs its code from the project folder.
    name = properties.get("FunctionName") or stack.physical_name(logical_id)
    arn = stack.client("lambda").create_function(
        FunctionName=name,
        Runtime=properties["Runtime"],
        Role=properties["Role"],
        Handler=properties["Handler"],
        Code={"ZipFile": _EMPTY_ZIP.getvalue()},
        Timeout=int(properties.get("Timeout", 3)),
    )["FunctionArn"]
    if "ReservedConcurrentExecutions" in properties:  # the local runtime throttles on moto's value
        stack.client("lambda").put_function_concurrency(
            FunctionName=name, ReservedConcurrentExecutions=int(properties["ReservedConcurrentExecutions"])
        )
    return {"Ref": name, "Arn": arn, "Properties": properties}


def _version(stack: Stack, logical_id: str, properties: dict[str, Any]) -> dict[str, Any]:
    published = stack.client("lambda").publish_version(FunctionName=properties["FunctionName"])
    return {"Ref": published["FunctionArn"], "Version": published["Version"], "Properties": properties}


def _alias(stack: Stack, logical_id: str, properties: dict[str, Any]) -> dict[str, Any]:
    # Every event source, rule and workflow of the template invokes the alias (AutoPublishAlias);
    # the local runtime serves any qualifier of a function with the code in the project folder.
    arn = stack.client("lambda").create_alias(
        FunctionName=properties["FunctionName"], Name=properties["Name"], FunctionVersion=properties["FunctionVersion"]
    )["AliasArn"]
    return {"Ref": arn, "Properties": properties}


def _state_machine(stack: Stack, logical_id: str, properties: dict[str, Any]) -> dict[str, Any]:
    definition = stack.template.local_path(properties["DefinitionS3Location"]).read_text()
    for name, value in properties.get("DefinitionSubstitutions", {}).items():
        definition = definition.replace("${" + name + "}", str(value))
    name = properties.get("StateMachineName") or stack.physical_name(logical_id, 80)
    arn = stack.client("stepfunctions").create_state_machine(
        name=name,
        definition=definition,
        roleArn=properties["RoleArn"],
        type=properties.get("StateMachineType", "STANDARD"),
        loggingConfiguration=_api_names(properties.get("LoggingConfiguration", {"Level": "OFF"})),
    )["stateMachineArn"]
    return {"Ref": arn, "Arn": arn, "Name": name, "Definition": definition, "Properties": properties}


def _user_pool(stack: Stack, logical_id: str, properties: dict[str, Any]) -> dict[str, Any]:
    # CloudFormation's property names are the API's, but for the pool's name.
    passed = ("UsernameAttributes", "AutoVerifiedAttributes", "Schema", "LambdaConfig", "Policies")
    arguments = {key: properties[key] for key in passed if key in properties}
    if "AdminCreateUserConfig" in properties:
        arguments["AdminCreateUserConfig"] = properties["AdminCreateUserConfig"]
    pool = stack.client("cognito-idp").create_user_pool(
        PoolName=properties.get("UserPoolName") or stack.physical_name(logical_id, 128), **arguments
    )["UserPool"]
    return {"Ref": pool["Id"], "Arn": pool["Arn"], "ProviderName": f"cognito-idp.{REGION}.amazonaws.com/{pool['Id']}"}


def _user_pool_client(stack: Stack, logical_id: str, properties: dict[str, Any]) -> dict[str, Any]:
    passed = ("GenerateSecret", "ExplicitAuthFlows", "ReadAttributes", "WriteAttributes", "PreventUserExistenceErrors")
    client = stack.client("cognito-idp").create_user_pool_client(
        UserPoolId=properties["UserPoolId"],
        ClientName=properties.get("ClientName") or stack.physical_name(logical_id, 128),
        **{key: properties[key] for key in passed if key in properties},
    )["UserPoolClient"]
    return {"Ref": client["ClientId"]}


def _user_pool_group(stack: Stack, logical_id: str, properties: dict[str, Any]) -> dict[str, Any]:
    name = properties.get("GroupName") or stack.physical_name(logical_id, 128)
    stack.client("cognito-idp").create_group(UserPoolId=properties["UserPoolId"], GroupName=name)
    return {"Ref": name}


def _secret(stack: Stack, logical_id: str, properties: dict[str, Any]) -> dict[str, Any]:
    """A secret with its value, or one generated as CloudFormation generates it (GenerateSecretString)."""
    name = properties.get("Name") or stack.physical_name(logical_id, 512)
    value = properties.get("SecretString")
    if value is None:
        value = _generated_secret(stack, properties.get("GenerateSecretString", {}))
    arn = stack.client("secretsmanager").create_secret(Name=name, SecretString=value)["ARN"]
    return {"Ref": arn, "Id": arn}


def _generated_secret(stack: Stack, spec: dict[str, Any]) -> str:
    """A random password as Secrets Manager generates it, in SecretStringTemplate under
    GenerateStringKey if both are given."""
    passed = (
        "PasswordLength",
        "ExcludeCharacters",
        "ExcludeNumbers",
        "ExcludePunctuation",
        "ExcludeUppercase",
        "ExcludeLowercase",
        "IncludeSpace",
        "RequireEachIncludedType",
    )
    arguments = {key: spec[key] for key in passed if key in spec}
    if "PasswordLength" in arguments:
        arguments["PasswordLength"] = int(arguments["PasswordLength"])
    for flag in set(arguments) - {"PasswordLength", "ExcludeCharacters"}:
        arguments[flag] = str(arguments[flag]).lower() == "true"
    password: str = stack.client("secretsmanager").get_random_password(**arguments)["RandomPassword"]
    if "SecretStringTemplate" in spec and "GenerateStringKey" in spec:
        return json.dumps(json.loads(spec["SecretStringTemplate"]) | {spec["GenerateStringKey"]: password})
    return password


def _email_identity(stack: Stack, logical_id: str, properties: dict[str, Any]) -> dict[str, Any]:
    # SES v2's identity is also the one SES v1 checks: sending from it works through either API and
    # through Step Functions' aws-sdk:sesv2:sendEmail. moto verifies it at once.
    identity = properties["EmailIdentity"]
    stack.client("sesv2").create_email_identity(EmailIdentity=identity)
    return {"Ref": identity}


def _api_names(value: Any) -> Any:
    """CloudFormation's property names as the Step Functions API spells them (camelCase)."""
    if isinstance(value, dict):
        return {name[0].lower() + name[1:]: _api_names(item) for name, item in value.items()}
    if isinstance(value, list):
        return [_api_names(item) for item in value]
    return value


def _log_group(stack: Stack, logical_id: str, properties: dict[str, Any]) -> dict[str, Any]:
    name = properties.get("LogGroupName") or f"/local/{stack.physical_name(logical_id)}"
    stack.client("logs").create_log_group(logGroupName=name)
    return {"Ref": name, "Arn": stack.arn("logs", f"log-group:{name}:*"), "Properties": properties}


def _bucket(stack: Stack, logical_id: str, properties: dict[str, Any]) -> dict[str, Any]:
    """A bucket with its event notifications, lifecycle and CORS rules (moto applies the first two:
    EventBridge notifications put Object Created events on the buses, as S3 does)."""
    name = properties.get("BucketName") or stack.physical_name(logical_id, 63).lower()
    s3 = stack.client("s3")
    s3.create_bucket(Bucket=name)
    notifications = properties.get("NotificationConfiguration", {})
    if notifications.get("EventBridgeConfiguration", {}).get("EventBridgeEnabled"):
        s3.put_bucket_notification_configuration(
            Bucket=name, NotificationConfiguration={"EventBridgeConfiguration": {}}
        )
    if "LifecycleConfiguration" in properties:
        rules = [
            {
                "ID": rule["Id"],
                "Status": rule["Status"],
                "Filter": {"Prefix": rule.get("Prefix", "")},
                **({"Expiration": {"Days": rule["ExpirationInDays"]}} if "ExpirationInDays" in rule else {}),
                **(
                    {"AbortIncompleteMultipartUpload": rule["AbortIncompleteMultipartUpload"]}
                    if "AbortIncompleteMultipartUpload" in rule
                    else {}
                ),
            }
            for rule in properties["LifecycleConfiguration"]["Rules"]
        ]
        s3.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={"Rules": rules})
    if "CorsConfiguration" in properties:
        rules = [
            {("MaxAgeSeconds" if key == "MaxAge" else key): value for key, value in rule.items()}
            for rule in properties["CorsConfiguration"]["CorsRules"]
        ]
        s3.put_bucket_cors(Bucket=name, CORSConfiguration={"CORSRules": rules})
    return {
        "Ref": name,
        "Arn": f"arn:aws:s3:::{name}",
        "DomainName": f"{name}.s3.amazonaws.com",
        "Properties": properties,
    }


CREATORS: dict[str, Creator] = {
    "AWS::S3::Bucket": _bucket,
    "AWS::DynamoDB::Table": _table,
    "AWS::SQS::Queue": _queue,
    "AWS::SNS::Topic": _topic,
    "AWS::SNS::Subscription": _subscription,
    "AWS::Events::EventBus": _event_bus,
    "AWS::Events::Rule": _rule,
    "AWS::IAM::Role": _role,
    "AWS::Lambda::LayerVersion": _layer,
    "AWS::Lambda::Function": _function,
    "AWS::Lambda::Version": _version,
    "AWS::Lambda::Alias": _alias,
    "AWS::StepFunctions::StateMachine": _state_machine,
    "AWS::Logs::LogGroup": _log_group,
    "AWS::Cognito::UserPool": _user_pool,
    "AWS::Cognito::UserPoolClient": _user_pool_client,
    "AWS::Cognito::UserPoolGroup": _user_pool_group,
    "AWS::SecretsManager::Secret": _secret,
    "AWS::SES::EmailIdentity": _email_identity,
    "AWS::CloudWatch::Alarm": metric_alarm,
}
