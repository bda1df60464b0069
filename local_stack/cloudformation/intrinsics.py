"""Resolves CloudFormation intrinsic functions against the resources that the local stack made."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

_SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")
NO_VALUE = object()  # what Ref AWS::NoValue resolves to: the property or item it stands in is dropped


class UnresolvedReferenceError(LookupError):
    """A Ref or GetAtt to something that does not exist (yet)."""


class Intrinsics:
    def __init__(
        self,
        parameters: dict[str, str],
        conditions: dict[str, Any],
        ref: Callable[[str], Any],
        get_att: Callable[[str, str], Any],
    ) -> None:
        self.parameters = parameters
        self.conditions = conditions
        self.ref = ref
        self.get_att = get_att

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [item for item in map(self.resolve, value) if item is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((name, argument),) = value.items()
            function = _FUNCTIONS.get(name)
            if function is not None:
                return function(self, argument)
        resolved = {key: self.resolve(item) for key, item in value.items()}
        return {key: item for key, item in resolved.items() if item is not NO_VALUE}

    def condition(self, name: str) -> bool:
        return bool(self.resolve(self.conditions[name]))

    def _ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self.parameters:
            return self.parameters[name]
        return self.ref(name)

    def _get_att(self, argument: Any) -> Any:
        logical_id, attribute = argument.split(".", 1) if isinstance(argument, str) else self.resolve(argument)
        return self.get_att(logical_id, attribute)

    def _sub(self, argument: Any) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else (argument[0], self.resolve(argument[1]))

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in variables:
                return str(variables[name])
            if "." in name:  # Resource.Attribute (no pseudo parameter's name has a dot)
                return str(self._get_att(name))
            return str(self._ref(name))

        return _SUB_VARIABLE.sub(replace, text).replace("${!", "${")  # ${!x} is a literal ${x}

    def _join(self, argument: Any) -> str:
        separator, items = argument
        return str(separator).join(str(item) for item in self.resolve(items))

    def _if(self, argument: Any) -> Any:
        name, when_true, when_false = argument
        return self.resolve(when_true if self.condition(name) else when_false)

    def _select(self, argument: Any) -> Any:
        index, items = self.resolve(argument)
        return items[int(index)]

    def _split(self, argument: Any) -> list[str]:
        separator, text = self.resolve(argument)
        return str(text).split(separator)


_FUNCTIONS: dict[str, Callable[[Intrinsics, Any], Any]] = {
    "Ref": Intrinsics._ref,
    "Fn::GetAtt": Intrinsics._get_att,
    "Fn::Sub": Intrinsics._sub,
    "Fn::Join": Intrinsics._join,
    "Fn::If": Intrinsics._if,
    "Fn::Select": Intrinsics._select,
    "Fn::Split": Intrinsics._split,
    "Fn::Equals": lambda self, argument: self.resolve(argument[0]) == self.resolve(argument[1]),
    "Fn::Not": lambda self, argument: not self.resolve(argument[0]),
    "Fn::And": lambda self, argument: all(self.resolve(item) for item in argument),
    "Fn::Or": lambda self, argument: any(self.resolve(item) for item in argument),
    "Condition": lambda self, argument: self.condition(argument),
}
