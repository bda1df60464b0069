"""`python -m local_stack.sam_local_templates` splits a built template into one per API for `sam local
start-api -t`: SAM CLI, reading each, serves exactly that API's routes (with both in one template it
keeps one `GET /orders` of the two, silently), and runs the API's functions behind the sam-local
authorizer layer, which no other function and no deployed template has."""

import shutil

from samcli.lib.providers.api_provider import ApiProvider
from samcli.lib.providers.sam_stack_provider import SamLocalStackProvider
from samcli.yamlhelper import yaml_parse

from local_stack.cloudformation.template import TEMPLATE, read_source
from local_stack.sam_local_templates import AUTHORIZER_LAYER, AUTHORIZER_SOURCE, write_api_templates
from support.api import route_templates


def served_routes(path):
    stacks, _ = SamLocalStackProvider.get_stacks(template_dictionary=yaml_parse(path.read_text()))
    return {(method, route.path) for route in ApiProvider(stacks).api.routes for method in route.methods}


# What `sam local start-api` cannot serve: it serves only Lambda integrations (docs/local-development.md).
NOT_LAMBDA = {("POST", "/quotes")}


def test_each_api_template_serves_all_of_its_own_routes_and_no_other(tmp_path, sam_template):
    shutil.copy(TEMPLATE, tmp_path / "template.yaml")  # what `sam build` writes has the same shape

    written = write_api_templates(tmp_path, AUTHORIZER_SOURCE)

    assert [path.name for path in written] == ["StorefrontApi.yaml", "BackOfficeApi.yaml"]
    for path in written:
        expected = set(route_templates(sam_template, path.stem)) - NOT_LAMBDA
        assert served_routes(path) - {("OPTIONS", path) for _, path in expected} == expected, path.name


def test_only_the_apis_functions_run_behind_the_sam_local_authorizer_layer(tmp_path):
    shutil.copy(TEMPLATE, tmp_path / "template.yaml")
    source = read_source()["Resources"]

    for path, function in zip(
        write_api_templates(tmp_path, AUTHORIZER_SOURCE), ("StorefrontFunction", "BackOfficeFunction"), strict=True
    ):
        resources = yaml_parse(path.read_text())["Resources"]
        assert resources[AUTHORIZER_LAYER] == {
            "Type": "AWS::Serverless::LayerVersion",
            "Properties": {"ContentUri": str(AUTHORIZER_SOURCE), "CompatibleRuntimes": ["python3.13"]},
        }
        wrapped = {name for name, resource in resources.items() if "Layers" in resource.get("Properties", {})}
        assert wrapped == {function}, path.name
        properties = resources[function]["Properties"]
        assert properties["Layers"] == [{"Ref": AUTHORIZER_LAYER}]  # after the Globals' layers
        assert properties["Handler"] == "sam_local_authorizer.handler"
        variables = properties["Environment"]["Variables"]
        assert variables == source[function]["Properties"]["Environment"]["Variables"] | {
            "SAM_LOCAL_HANDLER": source[function]["Properties"]["Handler"],
            "USER_POOL_ID": {"Ref": "UserPool"},
            "USER_POOL_CLIENT_ID": {"Ref": "UserPoolClient"},
        }
