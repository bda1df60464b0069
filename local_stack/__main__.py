"""python -m local_stack [--template T] [--outputs-file F]: serve the application locally (make dev).

The storefront API on HOST:PORT (default 127.0.0.1:3000), the back office on HOST:ADMIN_PORT (3001),
the AWS endpoint (moto) on 127.0.0.1:MOTO_PORT (a free port), the fake payment provider on
127.0.0.1:PAYMENT_PORT (a free port; local_stack/fakes/payment_provider.py); with MOTO_HOST (an address or an
interface: docker0 for `sam local` containers) those two also listen there; never on every interface.
A port of 0 is one the kernel gives when the server binds it; the outputs name every URL.
Once all of them accept requests and the demo data is made (local_stack/demo.py), it writes the resolved outputs
(.aws-sam/local-outputs.json; removed on exit) and .aws-sam/local-env-vars.json for
`sam local start-api/invoke --env-vars` (Docker) against the same AWS endpoint.
"""

import argparse
import os
import signal
from pathlib import Path

from local_stack import demo
from local_stack.apigateway.sam_cli import APIS
from local_stack.cloudformation.template import OUTPUTS_FILE, PROJECT_ROOT, TEMPLATE
from local_stack.listen import LOOPBACK, interface_address
from local_stack.logs import say
from local_stack.server import describe, local_stack, outputs, sam_local_env_vars, write_whole

ENV_VARS_FILE = PROJECT_ROOT / ".aws-sam" / "local-env-vars.json"  # beside the outputs file


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m local_stack", description=__doc__)
    parser.add_argument("--template", type=Path, default=TEMPLATE)
    parser.add_argument("--outputs-file", type=Path, default=OUTPUTS_FILE, help="where to write the outputs")
    arguments = parser.parse_args()
    host = os.environ.get("HOST", LOOPBACK)
    ports = {logical_id: int(os.environ.get(variable, default)) for logical_id, variable, default in APIS}
    moto_host = os.environ.get("MOTO_HOST", LOOPBACK)
    moto_host = interface_address(moto_host) or moto_host  # an interface's name (docker0), or an address
    moto_port = int(os.environ.get("MOTO_PORT", "0"))
    payment_port = int(os.environ.get("PAYMENT_PORT", "0"))
    with local_stack(arguments.template, host, ports, moto_port, moto_host, payment_port) as local:
        docker_endpoint = local.aws_endpoint.replace("127.0.0.1", "host.docker.internal")
        env_vars_file: Path = arguments.outputs_file.with_name(ENV_VARS_FILE.name)
        write_whole(env_vars_file, sam_local_env_vars(local.stack, docker_endpoint))
        local.serve()
        resolved = outputs(local)
        demo_data = demo.seed(resolved)
        outputs_file: Path = arguments.outputs_file
        write_whole(outputs_file, resolved)

        def stop(signal_number: int, frame: object) -> None:
            """Ctrl-C or SIGTERM: everything runs in this one process, so ending it ends the APIs,
            moto and every worker at once, without waiting for work in flight on their threads."""
            outputs_file.unlink(missing_ok=True)
            say("Serverless Orders stopped.")
            os._exit(0)

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        for line in [*describe(local), *demo_data]:
            say(line)
        while True:
            signal.pause()


if __name__ == "__main__":
    main()
