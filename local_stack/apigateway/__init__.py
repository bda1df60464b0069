"""API Gateway for the local stack, where SAM CLI's emulation stops: the JWT and Cognito authorizers
(`authorizers`), a REST API's AWS-service and mock integrations (`integrations`) and their mapping
templates (`mapping_templates`)."""
