"""Creates the template's resources in moto (in process, or a moto server behind a session), the
way CloudFormation would, and answers Ref/GetAtt for them.

moto's own CloudFormation is not used: it cannot apply the SAM transform, breaks on `!Ref` of an
event bus and ignores DefinitionSubstitutions (docs/architecture.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import boto3

from local_stack.cloudformation.intrinsics import Intrinsics, UnresolvedReferenceError
from local_stack.cloudformation.resources import CREATORS, record_only
from local_stack.cloudformation.template import REGION, SamTemplate
from local_stack.lambda_runtime.functions import FunctionSpec

LOCAL_STACK_NAME = "orders-local"  # what make dev's resources are named after
ACCOUNT_ID = "123456789012"
PSEUDO_PARAMETERS = {
    "AWS::Region": REGION,
    "AWS::AccountId": ACCOUNT_ID,
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
}


def physical_name(stack_name: str, logical_id: str, limit: int = 64) -> str:
    """The name of a resource whose template gives none (CloudFormation appends a random suffix)."""
    return f"{stack_name}-{logical_id}"[:limit]


@dataclass
class Stack:
    name: str
    template: SamTemplate
    session: boto3.session.Session
    created: dict[str, dict[str, Any]] = field(default_factory=dict)
    _clients: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def intrinsics(self) -> Intrinsics:
        parameters = {**PSEUDO_PARAMETERS, "AWS::StackName": self.name, **self.template.parameters}
        return Intrinsics(parameters, self.template.conditions, self.ref, self.get_att)

    def ref(self, logical_id: str) -> Any:
        return self.get_att(logical_id, "Ref")

    def get_att(self, logical_id: str, attribute: str) -> Any:
        created = self.created.get(logical_id)
        if created is None:
            raise UnresolvedReferenceError(f"{logical_id}.{attribute}")
        if attribute not in created and created.get("RecordedOnly"):
            # A resource only AWS acts on (an API stage, a permission): a stand-in value, never called.
            return self.arn("local", f"{logical_id}/{attribute}")
        return created[attribute]

    def resolve(self, value: Any) -> Any:
        return self.intrinsics.resolve(value)

    def arn(self, service: str, resource: str) -> str:
        """The ARN of a resource of this stack's account and region."""
        return f"arn:aws:{service}:{REGION}:{ACCOUNT_ID}:{resource}"

    def output(self, name: str) -> Any:
        return self.resolve(self.template.outputs[name]["Value"])

    def physical_name(self, logical_id: str, limit: int = 64) -> str:
        return physical_name(self.name, logical_id, limit)

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self.session.client(service, region_name=REGION)  # type: ignore[call-overload]
        return self._clients[service]

    @cached_property
    def functions(self) -> dict[str, FunctionSpec]:
        specs = {}
        for logical_id, resource in self.template.of_type("AWS::Lambda::Function").items():
            properties = self.resolve(resource["Properties"])
            layer_ids = [layer["Ref"] for layer in resource["Properties"].get("Layers", [])]
            specs[logical_id] = FunctionSpec(
                logical_id=logical_id,
                name=self.ref(logical_id),
                arn=self.get_att(logical_id, "Arn"),
                handler=properties["Handler"],
                code_dir=self.template.local_path(properties["Code"]),
                layer_dirs=tuple(
                    self.template.local_path(self.template.properties(layer)["Content"]) for layer in layer_ids
                ),
                environment={
                    name: str(value) for name, value in properties.get("Environment", {}).get("Variables", {}).items()
                },
                timeout=int(properties.get("Timeout", 3)),
                memory_size=int(properties.get("MemorySize", 128)),
                reserved_concurrency=(
                    int(properties["ReservedConcurrentExecutions"])
                    if "ReservedConcurrentExecutions" in properties
                    else None
                ),
            )
        return specs

    def function_named(self, name_or_arn: str) -> FunctionSpec:
        name = name_or_arn.rsplit(":function:", maxsplit=1)[-1].split(":", maxsplit=1)[0]
        return next(spec for spec in self.functions.values() if name in (spec.name, spec.logical_id))


def deploy(template: SamTemplate, session: boto3.session.Session, stack_name: str = LOCAL_STACK_NAME) -> Stack:
    """Create every resource the local stack can host, retrying those whose references are not made yet."""
    stack = Stack(stack_name, template, session)
    pending = {
        logical_id: resource
        for logical_id, resource in template.resources.items()
        if "Condition" not in resource or stack.intrinsics.condition(resource["Condition"])
    }
    while pending:
        progress = False
        for logical_id, resource in list(pending.items()):
            create = CREATORS.get(resource["Type"], record_only)
            try:
                stack.created[logical_id] = create(stack, logical_id, stack.resolve(resource.get("Properties", {})))
            except UnresolvedReferenceError:
                continue
            del pending[logical_id]
            progress = True
        if not progress:
            raise RuntimeError(f"cannot resolve references of {sorted(pending)}")
    return stack
