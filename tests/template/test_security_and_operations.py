"""Auth, data protection, logs and alarms in the transformed template: what a deployed stack has."""

import json

from support.templates import gets_att, lambda_targets, names

DATA_TABLES = {"UsersTable", "InventoryTable", "OrdersTable", "AnalyticsTable"}


def dead_letter_queues(sam_template):
    """Every queue that holds what failed: DLQs, on-failure destinations, redrive targets."""
    queues = set()
    for properties in (r.get("Properties", {}) for r in sam_template.resources.values()):
        queues.add(gets_att(properties.get("DeadLetterConfig", {}).get("TargetArn")))
        queues.add(gets_att(properties.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")))
        queues.add(gets_att(properties.get("RedrivePolicy", {}).get("deadLetterTargetArn")))
        for target in properties.get("Targets", []):
            queues.add(gets_att(target.get("DeadLetterConfig", {}).get("Arn")))
    return queues - {None}


def alarms(sam_template):
    return [alarm["Properties"] for alarm in sam_template.of_type("AWS::CloudWatch::Alarm").values()]


def alarm_dimension_refs(sam_template, namespace, metric):
    found = set()
    for alarm in alarms(sam_template):
        if (alarm["Namespace"], alarm["MetricName"]) == (namespace, metric):
            assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]
            for dimension in alarm["Dimensions"]:
                found.add(names(dimension["Value"]))  # a reference: a name written out is another stack's
    found.discard(None)
    return found


def test_every_table_queue_and_topic_is_encrypted_at_rest(sam_template):
    for name in sam_template.of_type("AWS::DynamoDB::Table"):
        assert sam_template.properties(name)["SSESpecification"]["SSEEnabled"] is True, name
    for name in sam_template.of_type("AWS::SQS::Queue"):
        properties = sam_template.properties(name)
        assert properties.get("SqsManagedSseEnabled") or properties.get("KmsMasterKeyId"), name
    for name in sam_template.of_type("AWS::SNS::Topic"):
        assert sam_template.properties(name)["KmsMasterKeyId"], name


def test_data_tables_are_retained_and_recoverable_and_idempotency_is_not(sam_template):
    tables = sam_template.of_type("AWS::DynamoDB::Table")
    assert set(tables) == DATA_TABLES | {"IdempotencyTable", "CircuitBreakerTable", "ImportsTable"}
    for name in DATA_TABLES:
        assert tables[name]["DeletionPolicy"] == tables[name]["UpdateReplacePolicy"] == "Retain", name
        assert tables[name]["Properties"]["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"], name
    assert tables["IdempotencyTable"]["DeletionPolicy"] == "Delete"
    assert tables["CircuitBreakerTable"]["DeletionPolicy"] == "Delete"  # transient: rebuilt by the next payment
    # Progress documents that expire in 30 days; the inventory they changed is retained.
    assert tables["ImportsTable"]["DeletionPolicy"] == "Delete"
    assert tables["ImportsTable"]["Properties"]["TimeToLiveSpecification"] == {
        "AttributeName": "expires",
        "Enabled": True,
    }


def test_every_log_group_has_a_retention_and_every_function_logs_to_one(sam_template):
    for name in sam_template.of_type("AWS::Logs::LogGroup"):
        assert sam_template.properties(name)["RetentionInDays"], name
    for name, function in sam_template.of_type("AWS::Lambda::Function").items():
        log_group = function["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
        assert sam_template.resources[log_group]["Type"] == "AWS::Logs::LogGroup", name


def test_every_dead_letter_and_on_failure_queue_alarms_on_any_message(sam_template):
    queues = dead_letter_queues(sam_template)
    assert {"ProcessOrderDLQ", "NotifyDLQ", "AsyncFailuresQueue", "AnalyticsDLQ", "PublishOrderEventsDLQ"} <= queues
    assert queues <= alarm_dimension_refs(sam_template, "AWS/SQS", "ApproximateNumberOfMessagesVisible")
    for alarm in alarms(sam_template):
        if alarm["MetricName"] == "ApproximateNumberOfMessagesVisible":
            assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (0, "GreaterThanThreshold")


def test_every_queue_holds_failures_or_hands_its_own_to_a_queue_that_does(sam_template):
    """A message that nobody can process (the shipping system down for the 14 days of retention,
    a poison message) moves aside to an alarmed queue instead of expiring unseen. The workflow's
    own dead-letter queue (ConfirmationDLQ, where its Catch sends) counts by its alarm."""
    failures = dead_letter_queues(sam_template) | alarm_dimension_refs(
        sam_template, "AWS/SQS", "ApproximateNumberOfMessagesVisible"
    )
    for name in sam_template.of_type("AWS::SQS::Queue"):
        if name in failures:
            continue
        redrive = sam_template.properties(name).get("RedrivePolicy", {})
        assert gets_att(redrive.get("deadLetterTargetArn")) in failures, name
        assert 1 <= redrive["maxReceiveCount"] <= 10, name
    assert "ShippingQueue" not in failures


def test_every_alarm_tells_the_alarm_topic_when_it_fires_and_when_it_clears(sam_template):
    """An alarm without actions fires and tells nobody."""
    assert len(alarms(sam_template)) >= 46
    for alarm in alarms(sam_template):
        assert alarm["AlarmActions"] == alarm["OKActions"] == [{"Ref": "AlarmTopic"}], alarm["AlarmDescription"]


def test_every_function_alarms_on_errors_and_the_account_on_any_throttle(sam_template):
    functions = set(sam_template.of_type("AWS::Lambda::Function"))
    assert alarm_dimension_refs(sam_template, "AWS/Lambda", "Errors") == functions
    assert set(lambda_targets(sam_template)) <= functions
    # One alarm on Lambda's Throttles without a dimension: every function of the account. It is
    # enough while no function reserves concurrency (a reservation throttles that function alone,
    # and would want its own alarm): any throttle then means the account's concurrency ran out.
    [throttles] = [alarm for alarm in alarms(sam_template) if alarm["MetricName"] == "Throttles"]
    assert (throttles["Namespace"], throttles["Statistic"], throttles["Period"]) == ("AWS/Lambda", "Sum", 60)
    assert "Dimensions" not in throttles
    assert (throttles["Threshold"], throttles["ComparisonOperator"]) == (0, "GreaterThanThreshold")
    assert throttles["AlarmActions"] == throttles["OKActions"] == [{"Ref": "AlarmTopic"}]
    reserving = [name for name in functions if "ReservedConcurrentExecutions" in sam_template.properties(name)]
    assert reserving == [], "a function that reserves concurrency needs a Throttles alarm of its own"


def test_the_workflows_have_their_alarms(sam_template):
    workflows = {"OrderWorkflow", "QuoteWorkflow", "ImportWorkflow", "ImportChunkWorkflow"}
    assert alarm_dimension_refs(sam_template, "AWS/States", "ExecutionsFailed") == workflows
    assert alarm_dimension_refs(sam_template, "AWS/States", "ExecutionsTimedOut") == workflows


def test_the_dashboard_shows_orders_workflow_api_functions_and_queues(sam_template):
    [dashboard] = sam_template.of_type("AWS::CloudWatch::Dashboard").values()
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    for metric in [
        "OrderCreated",
        "OrdersConfirmed",
        "OrdersRejected",
        "ExecutionsStarted",
        "ExecutionsSucceeded",
        "ExecutionsFailed",
        "ExecutionsTimedOut",
        "ExecutionsThrottled",
        "5XXError",
        "Latency",
        "Errors",
        "Throttles",
        "ApproximateNumberOfMessagesVisible",
    ]:
        assert f'\\"{metric}\\"' in body, metric
    filters = [f["Properties"] for f in sam_template.of_type("AWS::Logs::MetricFilter").values()]
    assert {f["MetricTransformations"][0]["MetricName"] for f in filters} == {"OrdersConfirmed", "OrdersRejected"}


def test_an_open_payment_circuit_breaker_alarms_while_orders_wait(sam_template):
    alarm = sam_template.properties("PaymentCircuitOpenAlarm")
    assert (alarm["Namespace"], alarm["MetricName"], alarm["Statistic"]) == (
        "ServerlessOrders",
        "PaymentCircuitOpen",
        "Maximum",
    )
    assert alarm["Dimensions"] == [{"Name": "service", "Value": "serverless-orders"}]
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (1, "GreaterThanOrEqualToThreshold")
    assert alarm["AlarmActions"] == alarm["OKActions"] == [{"Ref": "AlarmTopic"}]
    assert "PaymentCircuitOpen" in json.dumps(sam_template.properties("Dashboard")["DashboardBody"])


def test_only_the_payment_functions_read_the_payment_api_key(sam_template):
    readers = set()
    for role_id, role in sam_template.of_type("AWS::IAM::Role").items():
        for policy in role["Properties"].get("Policies", []):
            statements = policy["PolicyDocument"]["Statement"]
            for statement in statements if isinstance(statements, list) else [statements]:
                if statement["Resource"] == {"Ref": "PaymentApiKey"}:
                    assert statement["Action"] == "secretsmanager:GetSecretValue", role_id
                    readers.add(role_id.removesuffix("Role"))
    assert readers == {"ChargePaymentFunction", "CloseOrderFunction", "ExecutionWatcherFunction"}


def unqualified_uses(sam_template, value, functions):
    """Where a value names a function itself rather than a version or alias of it."""
    if isinstance(value, list):
        return [use for item in value for use in unqualified_uses(sam_template, item, functions)]
    if not isinstance(value, dict):
        return []
    named = value.get("Ref") or value.get("Fn::GetAtt", [None])[0]
    substituted = json.dumps(value.get("Fn::Sub", ""))
    uses = [
        name
        for name in functions
        if named == name or f"${{{name}}}" in substituted or f"${{{name}.Arn}}" in substituted
    ]
    return uses + unqualified_uses(sam_template, list(value.values()), functions)


def test_every_function_is_published_behind_live_and_everything_invokes_the_alias(sam_template):
    functions = set(sam_template.of_type("AWS::Lambda::Function"))
    aliases = sam_template.of_type("AWS::Lambda::Alias")
    assert {sam_template.function_of(alias["Properties"]["FunctionName"]) for alias in aliases.values()} == functions
    for alias in aliases.values():
        version = alias["Properties"]["FunctionVersion"]["Fn::GetAtt"]
        assert alias["Properties"]["Name"] == "live"
        assert sam_template.properties(version[0])["FunctionName"] == alias["Properties"]["FunctionName"]
    # What may name a function unqualified: its metrics, its versions and alias, the async
    # configuration of its alias, and IAM grants, which must then cover every qualifier.
    users = {}
    for logical_id, resource in sam_template.resources.items():
        if uses := unqualified_uses(sam_template, resource.get("Properties", {}), functions):
            users[logical_id] = (resource["Type"], uses)
    assert {kind for kind, _ in users.values()} == {
        "AWS::CloudWatch::Alarm",
        "AWS::CloudWatch::Dashboard",
        "AWS::IAM::Role",
        "AWS::Lambda::Alias",
        "AWS::Lambda::Version",
        "AWS::Lambda::EventInvokeConfig",
    }
    for logical_id, (kind, _) in users.items():
        if kind == "AWS::Lambda::EventInvokeConfig":
            assert sam_template.properties(logical_id)["Qualifier"] == "live"
        if kind == "AWS::IAM::Role":
            for policy in sam_template.properties(logical_id)["Policies"]:
                for statement in policy["PolicyDocument"]["Statement"]:
                    if unqualified_uses(sam_template, statement["Resource"], functions):
                        assert statement["Action"] == ["lambda:InvokeFunction"]
                        assert statement["Resource"]["Fn::Sub"][0].endswith(":function:${functionName}*")


def test_prod_shifts_traffic_by_canary_rolled_back_by_the_functions_errors_alarm_and_dev_at_once(sam_template):
    assert sam_template.conditions["IsProd"] == {"Fn::Equals": [{"Ref": "Stage"}, "prod"]}
    groups = sam_template.of_type("AWS::CodeDeploy::DeploymentGroup")
    aliases = sam_template.of_type("AWS::Lambda::Alias").values()
    assert len(groups) == len(sam_template.of_type("AWS::Lambda::Function")) == len(aliases)
    for alias in aliases:
        function = sam_template.function_of(alias["Properties"]["FunctionName"])
        update = alias["UpdatePolicy"]["CodeDeployLambdaAliasUpdate"]
        group = sam_template.properties(update["DeploymentGroupName"]["Ref"])
        assert group["DeploymentConfigName"] == {
            "Fn::If": [
                "IsProd",
                {"Fn::Sub": ["CodeDeployDefault.Lambda${ConfigName}", {"ConfigName": "Canary10Percent5Minutes"}]},
                {"Fn::Sub": ["CodeDeployDefault.Lambda${ConfigName}", {"ConfigName": "AllAtOnce"}]},
            ]
        }
        assert group["AutoRollbackConfiguration"] == {
            "Enabled": True,
            "Events": ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM", "DEPLOYMENT_STOP_ON_REQUEST"],
        }
        [alarm] = group["AlarmConfiguration"]["Alarms"]
        assert group["AlarmConfiguration"]["Enabled"] is True
        watched = sam_template.properties(alarm["Name"]["Ref"])
        assert (watched["Namespace"], watched["MetricName"]) == ("AWS/Lambda", "Errors")
        [dimension] = watched["Dimensions"]
        assert (dimension["Name"], names(dimension["Value"])) == ("FunctionName", function)
        assert watched["AlarmActions"] == [{"Ref": "AlarmTopic"}]
