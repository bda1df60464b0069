"""CloudFormation for the local stack: template.yaml transformed offline by samtranslator (`template`),
its resources created in moto (`deploy`), its intrinsic functions resolved (`intrinsics`)."""
