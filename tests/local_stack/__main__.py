"""python -m local_stack [--template T] [--outputs-file F]: serve the application locally (make dev).

HOST and PORT (default 127.0.0.1:3000) choose the API's address, MOTO_PORT the AWS endpoint's.
"""

import argparse
import json
import os
from pathlib import Path

from local_stack.server import describe, local_stack, outputs, say
from local_stack.template import TEMPLATE


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m local_stack", description=__doc__)
    parser.add_argument("--template", type=Path, default=TEMPLATE)
    parser.add_argument("--outputs-file", type=Path, help="write the resolved stack outputs here as JSON")
    arguments = parser.parse_args()
    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ.get("PORT", "3000"))
    with local_stack(arguments.template, host, port, int(os.environ.get("MOTO_PORT", "0"))) as (service, stack):
        resolved = {"ApiUrl": f"http://{host}:{port}", **outputs(stack)}
        if arguments.outputs_file:
            arguments.outputs_file.write_text(json.dumps(resolved, indent=2))
        for line in describe(service, stack, host, port):
            say(line)
        try:
            service.run()
        except KeyboardInterrupt:
            pass
    say("Serverless Orders stopped.")


if __name__ == "__main__":
    main()
