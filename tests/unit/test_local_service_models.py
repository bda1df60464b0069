"""botocore's model files read once per process (local_stack/lambda_runtime/service_models.py): by
every Session of the tests and of `make dev`'s function instances, whose forkserver reads the
functions' services before it forks them (a test in test_local_workers.py)."""

from unittest.mock import patch

import botocore.session
from botocore.loaders import JSONFileLoader

from local_stack.cloudformation.template import load
from local_stack.lambda_runtime.service_models import FUNCTION_SERVICES, share_service_models

IAM_PREFIXES = {"states": "stepfunctions"}  # where an IAM action's prefix is not the SDK's name


def test_new_sessions_of_the_process_read_a_services_model_once(aws):
    share_service_models()  # conftest.py did, for every test: doing it again changes nothing
    with patch.object(JSONFileLoader, "load_file", autospec=True, side_effect=JSONFileLoader.load_file) as load_file:
        for _ in range(3):
            client = botocore.session.get_session().create_client("kinesis", region_name="us-east-1")
            assert client.list_streams()["StreamNames"] == []  # each works, against moto

    read = [str(call.args[1]) for call in load_file.call_args_list]
    assert len([path for path in read if "/kinesis/" in path and path.endswith("service-2")]) <= 1  # 0 if read before


def test_the_forkserver_reads_every_service_the_functions_roles_may_call():
    template = load()
    roles = {
        function["Properties"]["Role"]["Fn::GetAtt"][0]
        for function in template.of_type("AWS::Lambda::Function").values()
    }
    actions = [
        action
        for role in roles
        for policy in template.resources[role]["Properties"].get("Policies", [])
        for statement in policy["PolicyDocument"]["Statement"]
        for action in ([statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"])
    ]
    prefixes = {action.split(":")[0] for action in actions}

    assert "dynamodb" in prefixes
    assert {IAM_PREFIXES.get(prefix, prefix) for prefix in prefixes} <= set(FUNCTION_SERVICES)
