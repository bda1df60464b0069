"""What the forkserver does once, before it forks any function instance: it imports this module
last of its preloads (SHARED_LIBRARIES in workers.py), and every instance inherits the result.
Importing it elsewhere changes only how often botocore reads its files."""

from local_stack.lambda_runtime.service_models import FUNCTION_SERVICES, read_service_models

read_service_models(FUNCTION_SERVICES)
