"""`python -m local_stack.sam_local` splits a built template into one per API for `sam local
start-api -t`: SAM CLI, reading each, serves exactly that API's routes (with both in one template it
keeps one `GET /orders` of the two, silently)."""

import shutil

from samcli.lib.providers.api_provider import ApiProvider
from samcli.lib.providers.sam_stack_provider import SamLocalStackProvider
from samcli.yamlhelper import yaml_parse

from local_stack.sam_local import write_api_templates
from local_stack.template import TEMPLATE
from support.api import route_templates


def served_routes(path):
    stacks, _ = SamLocalStackProvider.get_stacks(template_dictionary=yaml_parse(path.read_text()))
    return {(method, route.path) for route in ApiProvider(stacks).api.routes for method in route.methods}


# What `sam local start-api` cannot serve: it serves only Lambda integrations (README, "Quotes").
NOT_LAMBDA = {("POST", "/quotes")}


def test_each_api_template_serves_all_of_its_own_routes_and_no_other(tmp_path, sam_template):
    shutil.copy(TEMPLATE, tmp_path / "template.yaml")  # what `sam build` writes has the same shape

    written = write_api_templates(tmp_path)

    assert [path.name for path in written] == ["StorefrontApi.yaml", "BackOfficeApi.yaml"]
    for path in written:
        expected = set(route_templates(sam_template, path.stem)) - NOT_LAMBDA
        assert served_routes(path) - {("OPTIONS", path) for _, path in expected} == expected, path.name
