"""Questions about the transformed template that more than one suite asks."""


def lambda_targets(sam_template):
    """The functions that an EventBridge rule invokes, asynchronously."""
    for rule in sam_template.of_type("AWS::Events::Rule").values():
        for target in rule["Properties"]["Targets"]:
            if target["Arn"].get("Fn::GetAtt", [""])[0] in sam_template.of_type("AWS::Lambda::Function"):
                yield target["Arn"]["Fn::GetAtt"][0]
