"""The bulk import's resources: a private bucket whose uploads start the import through the default
bus, and two workflows that retry every step and lose no chunk."""

import json

from local_stack.cloudformation.template import PROJECT_ROOT

IMPORT_WORKFLOW = json.loads((PROJECT_ROOT / "statemachine" / "import_workflow.asl.json").read_text())
CHUNK_WORKFLOW = json.loads((PROJECT_ROOT / "statemachine" / "import_chunk_workflow.asl.json").read_text())


def test_the_imports_bucket_is_private_encrypted_tls_only_and_forgets_uploads(sam_template):
    bucket = sam_template.properties("ImportsBucket")
    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    [encryption] = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert encryption["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    assert bucket["NotificationConfiguration"] == {"EventBridgeConfiguration": {"EventBridgeEnabled": True}}
    expiry = {
        rule["Prefix"]: rule["ExpirationInDays"]
        for rule in bucket["LifecycleConfiguration"]["Rules"]
        if "Prefix" in rule
    }
    assert expiry == {"uploads/": 7, "work/": 2, "reports/": 30}
    [statement] = sam_template.properties("ImportsBucketPolicy")["PolicyDocument"]["Statement"]
    assert (statement["Effect"], statement["Principal"], statement["Action"]) == ("Deny", "*", "s3:*")
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert statement["Resource"] == [
        {"Fn::GetAtt": ["ImportsBucket", "Arn"]},
        {"Fn::Sub": "${ImportsBucket.Arn}/*"},
    ]


def test_an_upload_reaches_the_starter_from_the_default_bus_with_retries_and_a_dlq(sam_template):
    """S3 sends its events to the default bus only: a rule on another bus would pass locally (moto
    puts them on every bus) and never fire on AWS."""
    rule = sam_template.properties("ImportUploadedRule")
    assert rule["EventBusName"] == "default"
    assert rule["EventPattern"] == {
        "source": ["aws.s3"],
        "detail-type": ["Object Created"],
        "detail": {"bucket": {"name": [{"Ref": "ImportsBucket"}]}, "object": {"key": [{"prefix": "uploads/"}]}},
    }
    [target] = rule["Targets"]
    assert target["Arn"] == {"Ref": "StartImportFunctionAliaslive"}
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 20, "MaximumEventAgeInSeconds": 3600}
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": ["ImportEventsDeliveryDLQ", "Arn"]}}
    [statement] = sam_template.properties("ImportEventsDeliveryDLQPolicy")["PolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert statement["Condition"] == {"ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": ["ImportUploadedRule", "Arn"]}}}


def test_the_import_workflow_is_standard_and_its_chunks_are_nested_express_workflows(sam_template):
    assert sam_template.properties("ImportWorkflow")["StateMachineType"] == "STANDARD"
    assert sam_template.properties("ImportChunkWorkflow")["StateMachineType"] == "EXPRESS"
    substitutions = sam_template.properties("ImportWorkflow")["DefinitionSubstitutions"]
    assert substitutions["ImportChunkWorkflowArn"] == {"Ref": "ImportChunkWorkflow"}
    assert substitutions["ImportMaxConcurrency"] == {"Ref": "ImportMaxConcurrency"}
    chunks = IMPORT_WORKFLOW["States"]["ImportChunks"]
    assert chunks["MaxConcurrencyPath"] == "$.file.max_concurrency"
    assert IMPORT_WORKFLOW["States"]["PrepareImport"]["ResultSelector"]["max_concurrency.$"] == (
        "States.StringToJson('${ImportMaxConcurrency}')"
    )
    task = chunks["ItemProcessor"]["States"]["ImportChunk"]
    assert task["Resource"] == "arn:aws:states:::states:startExecution.sync:2"
    # A retry starts a new child: execution names are unique.
    assert task["Parameters"]["Name.$"] == "States.Format('{}-{}-{}', $.import_id, $.chunk.index, $$.State.RetryCount)"


def _tasks(definition):
    for name, state in definition["States"].items():
        if state["Type"] == "Task":
            yield name, state
        if "ItemProcessor" in state:
            yield from _tasks(state["ItemProcessor"])


def test_every_import_task_retries_with_backoff():
    for name, state in [*_tasks(IMPORT_WORKFLOW), *_tasks(CHUNK_WORKFLOW)]:
        assert state["Retry"], name
        for retrier in state["Retry"]:
            assert retrier["MaxAttempts"] >= 1, name
            assert retrier["IntervalSeconds"] >= 1, name
            assert retrier["BackoffRate"] == 2.0, name


def test_no_error_leaves_an_import_running_and_a_failed_chunk_is_counted():
    states = IMPORT_WORKFLOW["States"]
    for name in ("PrepareImport", "ImportChunks", "FinishImport"):
        assert states[name]["Catch"] == [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "MarkFailed"}]
    assert states["MarkFailed"]["Next"] == "NotifyFailure"
    assert states["NotifyFailure"]["Next"] == "ImportFailed"
    assert states["ImportFailed"]["Type"] == "Fail"  # the execution fails: ImportWorkflowFailedAlarm
    chunk = states["ImportChunks"]["ItemProcessor"]["States"]
    assert chunk["ImportChunk"]["Catch"] == [
        {"ErrorEquals": ["States.ALL"], "ResultPath": "$.failure", "Next": "ChunkFailed"}
    ]
    assert chunk["ChunkFailed"]["Next"] == "RecordProgress"
    assert chunk["ChunkFailed"]["Parameters"]["rejected.$"] == "$.chunk.rows"


def test_staff_sign_uploads_and_report_downloads_only(sam_template):
    statements = {
        statement["Sid"]: statement
        for policy in sam_template.properties("BackOfficeFunctionRole")["Policies"]
        for statement in policy["PolicyDocument"]["Statement"]
        if "Sid" in statement
    }
    assert statements["SignUploads"]["Action"] == "s3:PutObject"
    assert statements["SignUploads"]["Resource"] == {"Fn::Sub": "${ImportsBucket.Arn}/uploads/*"}
    assert statements["SignReportDownloads"]["Action"] == "s3:GetObject"
    assert statements["SignReportDownloads"]["Resource"] == {"Fn::Sub": "${ImportsBucket.Arn}/reports/*"}
