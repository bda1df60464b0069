"""python -m local_stack [--template T] [--outputs-file F]: serve the application locally (make dev).

HOST and PORT (default 127.0.0.1:3000) choose the API's address; MOTO_HOST and MOTO_PORT (default
127.0.0.1 and a free port) the AWS endpoint's. It writes .aws-sam/local-env-vars.json for
`sam local start-api --env-vars` (Docker) against the same AWS endpoint.
"""

import argparse
import json
import os
import signal
from pathlib import Path

from local_stack.server import describe, local_stack, outputs, sam_local_env_vars, say
from local_stack.template import PROJECT_ROOT, TEMPLATE

ENV_VARS_FILE = PROJECT_ROOT / ".aws-sam" / "local-env-vars.json"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m local_stack", description=__doc__)
    parser.add_argument("--template", type=Path, default=TEMPLATE)
    parser.add_argument("--outputs-file", type=Path, help="write the resolved stack outputs here as JSON")
    arguments = parser.parse_args()
    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ.get("PORT", "3000"))
    moto_host = os.environ.get("MOTO_HOST", "127.0.0.1")
    moto_port = int(os.environ.get("MOTO_PORT", "0"))
    with local_stack(arguments.template, host, port, moto_port, moto_host) as local:
        resolved = {"ApiUrl": f"http://{host}:{port}", **outputs(local.stack)}
        if arguments.outputs_file:
            arguments.outputs_file.write_text(json.dumps(resolved, indent=2))
        docker_endpoint = local.aws_endpoint.replace("127.0.0.1", "host.docker.internal")
        ENV_VARS_FILE.parent.mkdir(exist_ok=True)
        ENV_VARS_FILE.write_text(json.dumps(sam_local_env_vars(local.stack, docker_endpoint), indent=2))
        for line in describe(local, host, port):
            say(line)
        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        local.service.run()


def stop(signal_number: int, frame: object) -> None:
    """Ctrl-C: everything runs in this one process, so ending it ends the API, moto and every
    worker at once, without waiting for requests or workflow executions in flight on their threads."""
    say("Serverless Orders stopped.")
    os._exit(0)


if __name__ == "__main__":
    main()
