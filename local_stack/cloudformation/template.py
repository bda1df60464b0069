"""template.yaml, transformed offline by samtranslator into the CloudFormation that AWS would deploy.

CloudFormation applies the template's transforms in order: AWS::LanguageExtensions first (its
Fn::ForEach loops, which the template's alarm families use), then the SAM transform. `read_source`
does the first with SAM CLI's own ForEach processor (what `sam build --language-extensions` runs);
the template uses no other language extension, so nothing else is resolved before samtranslator.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import boto3
import yaml
from samcli.lib.cfn_language_extensions.models import TemplateProcessingContext
from samcli.lib.cfn_language_extensions.processors.foreach import ForEachProcessor
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator
from samtranslator.yaml_helper import intrinsics_multi_constructor

PROJECT_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = PROJECT_ROOT / "template.yaml"
OUTPUTS_FILE = PROJECT_ROOT / ".aws-sam" / "local-outputs.json"  # written by a running `make dev`
REGION = "us-east-1"
LANGUAGE_EXTENSIONS = "AWS::LanguageExtensions"

# Without a feature toggle configuration (AWS's own), samtranslator warns once per function with a
# DeploymentPreference that its `deployment_preference_condition_fix` is off: noise, on every load.
logging.getLogger("samtranslator.feature_toggle.feature_toggle").setLevel(logging.ERROR)


class _TemplateLoader(yaml.CSafeLoader):  # type: ignore[misc]  # libyaml's classes are untyped
    """samtranslator's own reading of a template (`yaml_parse`: the safe loader and its `!Ref`-style
    tags) with libyaml's parser: the same data in an eighth of the time."""


_TemplateLoader.add_multi_constructor("!", intrinsics_multi_constructor)

_LOCAL_URI_PROPERTIES = ("CodeUri", "ContentUri", "DefinitionUri")
_PLACEHOLDER_BUCKET = "local-code"


@dataclass(frozen=True)
class SamTemplate:
    """The transformed template, the parameter values it was transformed with, and where each
    resource's local code or definition lives (samtranslator wants S3 URIs instead)."""

    path: Path
    resources: dict[str, dict[str, Any]]
    outputs: dict[str, Any]
    conditions: dict[str, Any]
    parameters: dict[str, str]
    source_paths: dict[str, Path] = field(default_factory=dict)

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {name: res for name, res in self.resources.items() if res["Type"] == resource_type}

    def properties(self, logical_id: str) -> dict[str, Any]:
        properties: dict[str, Any] = self.resources[logical_id].get("Properties", {})
        return properties

    def function_of(self, reference: Any) -> str:
        """The logical id of the function a Ref or GetAtt names, directly or through its alias."""
        logical_id = str(reference["Fn::GetAtt"][0] if "Fn::GetAtt" in reference else reference["Ref"])
        if self.resources[logical_id]["Type"] == "AWS::Lambda::Alias":
            return self.function_of(self.properties(logical_id)["FunctionName"])
        return logical_id

    def alias_of(self, function_id: str) -> str | None:
        """The name of the alias that the function's event sources invoke (AutoPublishAlias)."""
        for alias in self.of_type("AWS::Lambda::Alias").values():
            if alias["Properties"]["FunctionName"] == {"Ref": function_id}:
                return str(alias["Properties"]["Name"])
        return None

    def local_path(self, s3_location: Any) -> Path:
        """The local folder or file behind a placeholder S3 location written by `load`."""
        if isinstance(s3_location, dict):  # functions and layers say S3Key, state machines Key
            key = str(s3_location.get("S3Key") or s3_location["Key"])
        else:
            key = str(s3_location).split("/", 3)[3]
        return self.path.parent / key


def read_source(path: Path = TEMPLATE) -> dict[str, Any]:
    """The SAM template as the SAM transform receives it: Fn::ForEach loops expanded, the
    AWS::LanguageExtensions transform done (a `sam build` output keeps the loops: read it with this too)."""
    return expand_loops(yaml.load(path.read_text(), Loader=_TemplateLoader))  # noqa: S506 (a safe loader)


def expand_loops(template: dict[str, Any]) -> dict[str, Any]:
    if LANGUAGE_EXTENSIONS not in _transforms(template):
        return template
    context = TemplateProcessingContext(fragment=template)
    ForEachProcessor().process_template(context)
    expanded: dict[str, Any] = context.fragment
    remaining = [name for name in _transforms(expanded) if name != LANGUAGE_EXTENSIONS]
    expanded["Transform"] = remaining[0] if len(remaining) == 1 else remaining
    return expanded


def _transforms(template: dict[str, Any]) -> list[str]:
    transform = template.get("Transform", [])
    return [transform] if isinstance(transform, str) else list(transform)


def load(path: Path = TEMPLATE, parameter_overrides: dict[str, str] | None = None) -> SamTemplate:
    source = read_source(path)
    parameters = {
        name: str(spec["Default"]) for name, spec in source.get("Parameters", {}).items() if "Default" in spec
    }
    parameters.update(parameter_overrides or {})
    source_paths: dict[str, Path] = {}
    for logical_id, resource in source["Resources"].items():
        properties = resource.get("Properties", {})
        for name in _LOCAL_URI_PROPERTIES:
            if isinstance(properties.get(name), str) and "://" not in properties[name]:
                source_paths[logical_id] = path.parent / properties[name]
                properties[name] = f"s3://{_PLACEHOLDER_BUCKET}/{properties[name]}"
    translated = Translator(None, Parser(), boto_session=_offline_session()).translate(
        source, parameter_values=dict(parameters), get_managed_policy_map=lambda: {}
    )
    return SamTemplate(
        path=path,
        resources=translated["Resources"],
        outputs=translated.get("Outputs", {}),
        conditions=translated.get("Conditions", {}),
        parameters=parameters,
        source_paths=source_paths,
    )


@cache
def _offline_session() -> boto3.session.Session:
    return boto3.session.Session(region_name=REGION, aws_access_key_id="local", aws_secret_access_key="local")


def cloudformation(template: SamTemplate) -> dict[str, Any]:
    """The transformed template as a CloudFormation document, for cfn-lint and checkov."""
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Parameters": {name: {"Type": "String", "Default": value} for name, value in template.parameters.items()},
        "Conditions": template.conditions,
        "Resources": template.resources,
        "Outputs": template.outputs,
    }


if __name__ == "__main__":
    # python -m local_stack.cloudformation.template OUT.json: write the transformed template (make scan).
    import json
    import sys

    Path(sys.argv[1]).write_text(json.dumps(cloudformation(load()), indent=1))
