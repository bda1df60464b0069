#!/usr/bin/env bash
# End-to-end check of `sam local` on this machine, offline: Docker engine, the local base image,
# `sam build` into /tmp, one `sam local invoke` and one `sam local start-api` request, with the
# functions' SDK pointed at a throwaway moto server on the host (reached from the containers as
# host.docker.internal through samconfig.toml's add_host), so nothing calls real AWS.
# A function answering an error (moto has no tables here) passes: the check is that the handler
# ran (imports, layers on /opt/python) and returned JSON.
#
#   tests/sam_local/smoke.sh        # from anywhere; needs `make install` (.venv) first
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE=$ROOT/tests/sam_local
OUT=${SAM_SMOKE_DIR:-/tmp/sam-local-smoke}
case "$(uname -m)" in x86_64) ARCH=x86_64 ;; aarch64 | arm64) ARCH=arm64 ;; *) ARCH=$(uname -m) ;; esac

export PATH="$ROOT/.venv/bin:$HOME/.pyenv/versions/3.13.0/bin:$PATH"
export SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION=us-east-1
export SAM_SKIP_PULL_IMAGE=1   # = --skip-pull-image: never ask public.ecr.aws (offline)

fail() { echo "smoke.sh: FAIL: $*" >&2; exit 1; }
pids=()
cleanup() {
    local pid
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

"$HERE/docker.sh"
"$HERE/build_image.sh"

mkdir -p "$OUT"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("", 0)); print(s.getsockname()[1])'; }
MOTO_PORT=$(free_port)
API_PORT=$(free_port)

echo "smoke.sh: sam build -> $OUT/build"
(cd "$ROOT" && sam build --build-dir "$OUT/build" --cache-dir "$OUT/cache" \
    --parameter-overrides "Architecture=$ARCH") >"$OUT/build.log" 2>&1 || fail "sam build (see $OUT/build.log)"

# 0.0.0.0: the containers reach the host through the docker bridge's gateway, not loopback.
"$ROOT/.venv/bin/moto_server" -H 0.0.0.0 -p "$MOTO_PORT" >"$OUT/moto.log" 2>&1 &
pids+=($!)
printf '{"Parameters": {"AWS_ENDPOINT_URL": "http://host.docker.internal:%s"}}\n' "$MOTO_PORT" >"$OUT/env.json"

# -t points into /tmp, so SAM CLI would look for samconfig.toml there: name the project's one.
common=(-t "$OUT/build/template.yaml" --config-file "$ROOT/samconfig.toml"
    --parameter-overrides "Architecture=$ARCH" --env-vars "$OUT/env.json")

echo "smoke.sh: sam local invoke ValidateOrderFunction"
(cd "$ROOT" && timeout 300 sam local invoke "${common[@]}" ValidateOrderFunction -e events/workflow_input.json) \
    >"$OUT/invoke.out" 2>"$OUT/invoke.log" || fail "sam local invoke (see $OUT/invoke.log)"
python3 - "$OUT/invoke.out" <<'EOF' || fail "sam local invoke returned no JSON (see $OUT/invoke.out)"
import json, sys
body = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
print("smoke.sh: invoke answered:", json.dumps(body)[:160])
EOF
grep -q '"POST / HTTP' "$OUT/moto.log" || fail "the function did not reach the moto server via host.docker.internal"

echo "smoke.sh: sam local start-api on :$API_PORT"
(cd "$ROOT" && exec sam local start-api "${common[@]}" --port "$API_PORT") >"$OUT/start-api.log" 2>&1 &
api_pid=$!
pids+=("$api_pid")
for _ in $(seq 1 180); do
    curl -s -o /dev/null "http://127.0.0.1:$API_PORT/" && break
    kill -0 "$api_pid" 2>/dev/null || fail "sam local start-api exited (see $OUT/start-api.log)"
    sleep 1
done
code=$(curl -s -m 120 -o "$OUT/api.out" -w '%{http_code}' "http://127.0.0.1:$API_PORT/openapi.json") \
    || fail "no answer from sam local start-api (see $OUT/start-api.log)"
grep -q "^START RequestId" "$OUT/start-api.log" || fail "start-api answered $code without running a function"
echo "smoke.sh: GET /openapi.json -> HTTP $code (from the function)"
kill -TERM "$api_pid"; wait "$api_pid" 2>/dev/null || true
echo "smoke.sh: OK"
