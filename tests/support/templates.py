"""Questions about the transformed template that more than one suite asks."""

import re


def gets_att(value):
    """The logical id that a `Fn::GetAtt` names, or None for anything else."""
    return value["Fn::GetAtt"][0] if isinstance(value, dict) and "Fn::GetAtt" in value else None


def names(value):
    """The logical id that a Ref, a `Fn::GetAtt` or a bare `Fn::Sub: ${LogicalId}` names (an alarm
    loop's dimension: a loop can Ref only its own identifier), or None for anything else."""
    if not isinstance(value, dict):
        return None
    substituted = re.fullmatch(r"\$\{([A-Za-z0-9]+)\}", str(value.get("Fn::Sub", "")))
    return gets_att(value) or value.get("Ref") or (substituted.group(1) if substituted else None)


def lambda_targets(sam_template):
    """The functions that an EventBridge rule invokes (through their alias), asynchronously."""
    invocable = ("AWS::Lambda::Function", "AWS::Lambda::Alias")
    for rule in sam_template.of_type("AWS::Events::Rule").values():
        for target in rule["Properties"]["Targets"]:
            arn = target["Arn"]
            named = arn["Fn::GetAtt"][0] if "Fn::GetAtt" in arn else arn.get("Ref")
            if sam_template.resources.get(named, {}).get("Type") in invocable:
                yield sam_template.function_of(arn)
