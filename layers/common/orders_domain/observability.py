"""The process's Logger and Metrics, created once; service name and namespace come from the
POWERTOOLS_* environment variables that the template sets in Globals.

No Tracer: Lambda's active tracing already records each invocation and its AWS calls' latency is
visible in the segments; the X-Ray SDK would add ~0.8x a bare boto3 cold start (docs/architecture.md).
"""

from aws_lambda_powertools import Logger, Metrics

logger = Logger()
metrics = Metrics()
