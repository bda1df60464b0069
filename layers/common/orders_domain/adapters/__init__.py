"""The services outside the domain, each behind a small class: AWS clients, the Cognito user pool,
EventBridge, SNS, Step Functions, and the payment provider's HTTPS API."""
