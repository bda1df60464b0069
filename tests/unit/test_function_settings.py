"""Each function reads a typed settings model of only what it needs (orders_domain/settings.py), and
the template is the source of every value: a function may read no variable that the template does
not give it, and the template gives a function nothing of its own that it does not read."""

import dataclasses

import pytest
from samtranslator.yaml_helper import yaml_parse

from local_stack.cloudformation.template import TEMPLATE
from local_stack.lambda_runtime.functions import FunctionError, FunctionInstance

# Globals read by the libraries, not by the functions' code: Powertools' and boto3's own.
READ_BY_LIBRARIES = {"POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE", "POWERTOOLS_LOG_LEVEL"}
READ_BY_LIBRARIES |= {"AWS_ENDPOINT_URL"}


def template_globals():
    return set(yaml_parse(TEMPLATE.read_text())["Globals"]["Function"]["Environment"]["Variables"])


def handler_module(sam_template, function, logical_id):
    return function(logical_id).module(sam_template.properties(logical_id)["Handler"].rsplit(".", 1)[0])


def variables_read(module):
    """The variables of the function's settings model (none for a function without settings)."""
    settings = getattr(module, "settings", None)
    return {field.alias for field in type(settings).model_fields.values()} if settings is not None else set()


def test_each_function_reads_only_what_the_template_gives_it_and_is_given_only_what_it_reads(
    sam_template, function, subtests
):
    shared = template_globals()
    assert shared - READ_BY_LIBRARIES == {"USERS_TABLE", "INVENTORY_TABLE", "ORDERS_TABLE"}
    read_by_some = set()
    for logical_id, resource in sam_template.of_type("AWS::Lambda::Function").items():
        given = set(resource["Properties"].get("Environment", {}).get("Variables", {}))
        read = variables_read(handler_module(sam_template, function, logical_id))
        read_by_some |= read
        with subtests.test(logical_id):
            assert read <= given - READ_BY_LIBRARIES, "read, yet not in the template"
            assert given - shared <= read, "given by the template, yet never read"
    assert shared - READ_BY_LIBRARIES <= read_by_some


def test_the_api_functions_settings_name_what_each_alone_is_given(sam_template, function):
    storefront = variables_read(handler_module(sam_template, function, "StorefrontFunction"))
    back_office = variables_read(handler_module(sam_template, function, "BackOfficeFunction"))

    assert storefront - back_office == {"IDEMPOTENCY_TABLE"}
    assert back_office - storefront == {"USER_POOL_ID", "IMPORTS_TABLE", "IMPORTS_BUCKET", "CORS_ALLOW_ORIGIN"}


@pytest.mark.parametrize(
    ("logical_id", "variable"),
    [("RequestApprovalFunction", "APPROVAL_TOPIC_ARN"), ("ValidateOrderFunction", "APPROVAL_TIMEOUT")],
)
def test_a_function_without_a_variable_it_reads_fails_its_init_naming_it(function, logical_id, variable):
    spec = function(logical_id).spec
    without = dataclasses.replace(spec, environment={k: v for k, v in spec.environment.items() if k != variable})

    with pytest.raises(FunctionError) as failed:
        FunctionInstance(without).initialize()

    assert failed.value.error_type == "ValidationError"
    assert variable in failed.value.message
    assert "Field required" in failed.value.message


@pytest.mark.parametrize(
    ("logical_id", "variable"),
    [
        ("BackOfficeFunction", "USER_POOL_ID"),
        ("BackOfficeFunction", "CORS_ALLOW_ORIGIN"),
        ("PublishOrderEventsFunction", "EVENT_BUS_NAME"),
    ],
)
def test_an_empty_setting_fails_the_init_naming_it(function, logical_id, variable):
    """A template that resolves to an empty value (a parameter left blank) is refused at the cold
    start, not at the first request or record that needs it."""
    spec = function(logical_id).spec
    emptied = dataclasses.replace(spec, environment={**spec.environment, variable: ""})

    with pytest.raises(FunctionError) as failed:
        FunctionInstance(emptied).initialize()

    assert failed.value.error_type == "ValidationError"
    assert variable in failed.value.message
    assert "at least 1 character" in failed.value.message
