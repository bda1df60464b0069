"""Identity and the two APIs in the transformed template: who may call what, as deployed."""

import json

import pytest

# The routes that each API function serves, by the authorizer that guards them (NONE: public).
STOREFRONT_ROUTES = {
    "NONE": {"get": ["/products/{product_id}", "/openapi.json", "/swagger"]},
    "CustomerToken": {
        "get": ["/me", "/orders", "/orders/{order_id}"],
        "post": ["/orders", "/orders/{order_id}/cancel"],
    },
}
BACK_OFFICE_ROUTES = {
    "NONE": {"get": ["/openapi.json", "/swagger"]},
    "StaffToken": {
        "get": ["/users/{user_id}", "/inventory/{product_id}", "/orders", "/orders/{order_id}", "/imports/{import_id}"],
        "post": ["/users", "/orders/{order_id}/approval", "/imports"],
        "put": ["/inventory/{product_id}"],
    },
}


def by_route(routes_by_authorizer):
    """(method, path) → the authorizer of that route."""
    return {
        (method, path): authorizer
        for authorizer, methods in routes_by_authorizer.items()
        for method, paths in methods.items()
        for path in paths
    }


def routes(sam_template, api):
    paths = sam_template.properties(api)["Body"]["paths"]
    return {(method, path): operation for path, methods in paths.items() for method, operation in methods.items()}


def test_customers_sign_up_themselves_with_email_as_username_and_a_name(sam_template):
    pool = sam_template.properties("UserPool")
    assert pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is False
    assert pool["UsernameAttributes"] == ["email"]
    assert pool["UsernameConfiguration"] == {"CaseSensitive": False}
    assert pool["AutoVerifiedAttributes"] == ["email"]
    schema = {attribute["Name"]: attribute for attribute in pool["Schema"]}
    assert schema["name"]["Required"] is True
    assert schema["email"]["Required"] is True
    assert pool["Policies"]["PasswordPolicy"]["MinimumLength"] >= 12


def test_a_confirmed_sign_up_runs_the_profile_trigger_which_cognito_may_invoke(sam_template):
    pool = sam_template.properties("UserPool")
    assert pool["LambdaConfig"] == {"PostConfirmation": {"Ref": "CreateProfileFunctionAliaslive"}}
    permission = sam_template.properties("CreateProfileFunctionAliasliveCognitoPermission")
    assert permission["Principal"] == "cognito-idp.amazonaws.com"
    assert permission["SourceArn"] == {"Fn::GetAtt": ["UserPool", "Arn"]}
    assert permission["FunctionName"] == {"Ref": "CreateProfileFunctionAliaslive"}


def test_one_public_app_client_with_password_srp_and_refresh_flows_reading_the_name(sam_template):
    [client_id] = sam_template.of_type("AWS::Cognito::UserPoolClient")
    client = sam_template.properties(client_id)
    assert client["GenerateSecret"] is False
    assert set(client["ExplicitAuthFlows"]) == {
        "ALLOW_USER_SRP_AUTH",
        "ALLOW_USER_PASSWORD_AUTH",
        "ALLOW_REFRESH_TOKEN_AUTH",
    }
    # moto does not enforce these; AWS puts only readable attributes in the ID token.
    assert {"email", "name"} <= set(client["ReadAttributes"])
    assert client["PreventUserExistenceErrors"] == "ENABLED"


def test_staff_are_the_group_named_staff(sam_template):
    [group] = sam_template.of_type("AWS::Cognito::UserPoolGroup").values()
    assert group["Properties"] == {
        "GroupName": "staff",
        "Description": group["Properties"]["Description"],
        "UserPoolId": {"Ref": "UserPool"},
    }


def test_the_storefront_is_an_http_api_whose_jwt_authorizer_trusts_only_the_pool_and_its_client(sam_template):
    body = sam_template.properties("StorefrontApi")["Body"]
    authorizer = body["components"]["securitySchemes"]["CustomerToken"]["x-amazon-apigateway-authorizer"]
    assert authorizer["type"] == "jwt"
    assert authorizer["identitySource"] == "$request.header.Authorization"
    assert authorizer["jwtConfiguration"] == {
        "issuer": {"Fn::Sub": "https://cognito-idp.${AWS::Region}.amazonaws.com/${UserPool}"},
        "audience": [{"Ref": "UserPoolClient"}],
    }


@pytest.mark.parametrize(
    ("api", "function", "expected"),
    [
        ("StorefrontApi", "StorefrontFunction", by_route(STOREFRONT_ROUTES)),
        ("BackOfficeApi", "BackOfficeFunction", by_route(BACK_OFFICE_ROUTES)),
    ],
)
def test_each_route_has_its_authorizer_and_reaches_its_api_function(sam_template, api, function, expected):
    served = {
        route: operation
        for route, operation in routes(sam_template, api).items()
        if route[0] != "options" and route != ("post", "/quotes")
    }
    assert set(served) == set(expected)
    for route, operation in served.items():
        assert operation["security"] == [{expected[route]: []}], route
        integration = operation["x-amazon-apigateway-integration"]
        assert integration["type"] == "aws_proxy"
        assert integration["uri"]["Fn::Sub"].endswith(f"/functions/${{{function}Aliaslive}}/invocations"), route
        if api == "StorefrontApi":
            assert integration["payloadFormatVersion"] == "2.0"


def test_the_back_office_authorizer_is_the_pools_and_preflights_need_no_token(sam_template):
    body = sam_template.properties("BackOfficeApi")["Body"]
    scheme = body["components"]["securitySchemes"]["StaffToken"]
    assert scheme["x-amazon-apigateway-authtype"] == "cognito_user_pools"
    assert scheme["x-amazon-apigateway-authorizer"]["providerARNs"] == [{"Fn::GetAtt": ["UserPool", "Arn"]}]
    assert scheme["name"] == "Authorization"
    preflights = [
        operation for (method, _), operation in routes(sam_template, "BackOfficeApi").items() if method == "options"
    ]
    assert preflights
    assert all("security" not in operation for operation in preflights)


def test_the_back_office_gateway_errors_are_json_with_cors_headers(sam_template):
    responses = sam_template.properties("BackOfficeApi")["Body"]["x-amazon-apigateway-gateway-responses"]
    for kind in ("DEFAULT_4XX", "DEFAULT_5XX"):
        response = responses[kind]
        assert response["responseTemplates"] == {"application/json": '{"message": $context.error.messageString}'}
        origin = response["responseParameters"]["gatewayresponse.header.Access-Control-Allow-Origin"]
        assert origin == {"Fn::Sub": "'${CorsAllowOrigin}'"}


def test_the_storefront_answers_preflights_for_the_configured_origins(sam_template):
    cors = sam_template.properties("StorefrontApi")["Body"]["x-amazon-apigateway-cors"]
    assert cors["allowOrigins"] == [{"Ref": "CorsAllowOrigin"}] or cors["allowOrigins"] == ["*"]
    assert {"Authorization", "Content-Type", "Idempotency-Key"} <= set(cors["allowHeaders"])


def test_both_apis_are_throttled_and_access_logged_to_log_groups_with_retention(sam_template):
    storefront = sam_template.properties("StorefrontApiApiGatewayDefaultStage")
    back_office = sam_template.properties("BackOfficeApiStage")
    assert storefront["DefaultRouteSettings"]["ThrottlingRateLimit"] == {"Fn::If": ["IsProd", 200, 50]}
    assert storefront["DefaultRouteSettings"]["ThrottlingBurstLimit"] == {"Fn::If": ["IsProd", 400, 100]}
    [settings] = back_office["MethodSettings"]
    assert settings["ThrottlingRateLimit"] == {"Fn::If": ["IsProd", 100, 25]}
    assert settings["ThrottlingBurstLimit"] == {"Fn::If": ["IsProd", 200, 50]}
    assert back_office["TracingEnabled"] is True
    for log in (storefront["AccessLogSettings"], back_office["AccessLogSetting"]):
        log_group = log["DestinationArn"]["Fn::GetAtt"][0]
        assert sam_template.properties(log_group)["RetentionInDays"] == {"Fn::If": ["IsProd", 90, 14]}
        assert json.loads(log["Format"].replace("\n", ""))["caller"] == "$context.authorizer.claims.sub"


def test_lists_are_queries_on_indexes_projected_whole(sam_template):
    indexes = {index["IndexName"]: index for index in sam_template.properties("OrdersTable")["GlobalSecondaryIndexes"]}
    keys = {name: [key["AttributeName"] for key in index["KeySchema"]] for name, index in indexes.items()}
    assert keys == {
        "by-customer": ["user_id", "created_at"],
        "by-status": ["status", "created_at"],
        "by-creation": ["listing", "created_at"],
    }
    assert all(index["Projection"] == {"ProjectionType": "ALL"} for index in indexes.values())


def test_the_api_functions_may_query_only_their_own_indexes(sam_template):
    def queried(role):
        statements = [s for p in sam_template.properties(role)["Policies"] for s in p["PolicyDocument"]["Statement"]]
        return [s["Resource"] for s in statements if s["Action"] == "dynamodb:Query"]

    assert queried("StorefrontFunctionRole") == [{"Fn::Sub": "${OrdersTable.Arn}/index/by-customer"}]
    assert queried("BackOfficeFunctionRole") == [
        [{"Fn::Sub": "${OrdersTable.Arn}/index/by-status"}, {"Fn::Sub": "${OrdersTable.Arn}/index/by-creation"}]
    ]


def test_both_apis_alarm_on_5xx_rate_and_p99_latency(sam_template):
    alarms = [alarm["Properties"] for alarm in sam_template.of_type("AWS::CloudWatch::Alarm").values()]
    api_alarms = {
        (alarm["MetricName"], json.dumps(alarm["Dimensions"][0]["Value"])): alarm
        for alarm in alarms
        if alarm["Namespace"] == "AWS/ApiGateway"
    }
    storefront = json.dumps({"Ref": "StorefrontApi"})
    back_office = json.dumps({"Fn::Sub": "${AWS::StackName}-back-office"})
    assert api_alarms[("5xx", storefront)]["Threshold"] == 0.01
    assert api_alarms[("5XXError", back_office)]["Threshold"] == 0.01
    assert api_alarms[("Latency", storefront)]["ExtendedStatistic"] == "p99"
    assert api_alarms[("Latency", back_office)]["ExtendedStatistic"] == "p99"
    for alarm in api_alarms.values():
        assert alarm["AlarmActions"] == alarm["OKActions"] == [{"Ref": "AlarmTopic"}]


def test_outputs_name_both_apis_and_the_user_pool(sam_template):
    outputs = sam_template.outputs
    assert {"StorefrontApiUrl", "BackOfficeApiUrl", "UserPoolId", "UserPoolClientId"} <= set(outputs)
    assert "${StorefrontApi}" in outputs["StorefrontApiUrl"]["Value"]["Fn::Sub"]
    assert outputs["BackOfficeApiUrl"]["Value"]["Fn::Sub"].endswith("/${Stage}")


def test_no_deployed_function_verifies_tokens_itself(sam_template):
    """On AWS the authorizers check tokens; under `sam local start-api` the sam-local templates add a
    layer that does (local_stack/sam_local_templates.py). The deployed template has neither it nor what it reads."""
    for logical_id, function in sam_template.of_type("AWS::Lambda::Function").items():
        variables = function["Properties"].get("Environment", {}).get("Variables", {})
        assert not {"AWS_SAM_LOCAL", "USER_POOL_CLIENT_ID", "SAM_LOCAL_HANDLER"} & set(variables), logical_id
        assert not function["Properties"]["Handler"].startswith("sam_local"), logical_id
    layers = sam_template.of_type("AWS::Serverless::LayerVersion") | sam_template.of_type("AWS::Lambda::LayerVersion")
    assert not [layer for layer in layers.values() if "sam-local" in json.dumps(layer)]
    # The back office creates customers in the pool; the storefront needs nothing of Cognito.
    assert sam_template.properties("BackOfficeFunction")["Environment"]["Variables"]["USER_POOL_ID"] == {
        "Ref": "UserPool"
    }
    assert "USER_POOL_ID" not in sam_template.properties("StorefrontFunction")["Environment"]["Variables"]


def test_quotes_start_the_quote_workflow_synchronously_as_a_role_that_may_do_only_that(sam_template):
    operation = routes(sam_template, "BackOfficeApi")[("post", "/quotes")]
    assert operation["security"] == [{"StaffToken": []}]
    integration = operation["x-amazon-apigateway-integration"]
    assert (integration["type"], integration["httpMethod"]) == ("aws", "POST")
    assert integration["uri"] == {
        "Fn::Sub": "arn:${AWS::Partition}:apigateway:${AWS::Region}:states:action/StartSyncExecution"
    }
    # Anything but JSON (or no Content-Type) is API Gateway's 415, not the workflow's guess.
    assert integration["passthroughBehavior"] == "never"
    assert list(integration["requestTemplates"]) == ["application/json"]
    assert integration["timeoutInMillis"] == 29000
    assert set(integration["responses"]) == {"default", "4\\d{2}", "5\\d{2}"}
    for response in integration["responses"].values():
        origin = response["responseParameters"]["method.response.header.Access-Control-Allow-Origin"]
        assert origin == {"Fn::Sub": "'${CorsAllowOrigin}'"}
    role = sam_template.properties(integration["credentials"]["Fn::GetAtt"][0])
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "apigateway.amazonaws.com"}
    [policy] = role["Policies"]
    assert policy["PolicyDocument"]["Statement"] == [
        {"Effect": "Allow", "Action": "states:StartSyncExecution", "Resource": {"Ref": "QuoteWorkflow"}}
    ]
    assert sam_template.properties("QuoteWorkflow")["StateMachineType"] == "EXPRESS"
