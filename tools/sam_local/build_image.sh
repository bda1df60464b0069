#!/usr/bin/env bash
# Build, offline, the Lambda Python 3.13 base image that `sam local invoke` / `sam local start-api`
# look for, so they never pull from public.ecr.aws:
#
#   Debian trixie (its python3 is 3.13), debootstrap'ed (minbase) from this machine's Debian mirror
#   + awslambdaric and boto3 (pinned, from PyPI) + /var/runtime/bootstrap
#   -> docker import -> tagged public.ecr.aws/lambda/python:3.13-<x86_64|arm64>
#
# SAM CLI (samcli/local/docker/lambda_image.py) builds its per-function image
# "FROM public.ecr.aws/lambda/python:3.13-<arch>", adds its aws-lambda-rie as
# /var/rapid/aws-lambda-rie and the layers under /opt, and starts the container with the
# entrypoint ["/var/rapid/aws-lambda-rie", "--log-level", "error"] and no command. The emulator
# then runs the first of /var/task/bootstrap, /opt/bootstrap, /var/runtime/bootstrap, with the
# function's handler in $_HANDLER and the Runtime API address in $AWS_LAMBDA_RUNTIME_API.
# Run sam local with --skip-pull-image (or SAM_SKIP_PULL_IMAGE=1): without it SAM CLI asks the
# registry for the base image's digest, or builds with pull=True, and both fail offline.
#
# Cached: the image carries a label with the sha256 of this file (which holds every pin) and the
# architecture; when an image with that label exists, nothing is built. FORCE=1 rebuilds.
# Needs root (debootstrap), a Docker engine (tools/sam_local/docker.sh starts one) and a pip.
# Work files live in $WORK_DIR (default /var/cache/sam-local-image), never in the repository.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
WORK_DIR=${WORK_DIR:-/var/cache/sam-local-image}
SUITE=trixie                 # Debian 13: python3 is python3.13
PYVER=3.13
LABEL_KEY=serverless-orders.sam-local.recipe

# The runtime's own packages. boto3 and its closure match requirements/dev.txt (what the project
# is tested with); awslambdaric is the Runtime Interface Client the bootstrap runs.
BOTO3_PINS=(
    boto3==1.43.108
    botocore==1.43.127
    s3transfer==0.19.3
    jmespath==1.1.0
    python-dateutil==2.9.0.post0
    six==1.17.0
    urllib3==2.8.0
)
RIC_PINS=(
    awslambdaric==4.2.2
    simplejson==4.3.0
    snapshot-restore-py==1.0.0
)

die() { echo "build_image.sh: $*" >&2; exit 1; }
log() { echo "build_image.sh: $*" >&2; }

case "$(uname -m)" in
    x86_64) SAM_ARCH=x86_64; DEB_ARCH=amd64; PIP_ARCH=x86_64 ;;
    aarch64 | arm64) SAM_ARCH=arm64; DEB_ARCH=arm64; PIP_ARCH=aarch64 ;;
    *) die "unsupported machine architecture $(uname -m)" ;;
esac

# SAM CLI's name for the python3.13 base image: "python3.13" supports two architectures, so the
# tag carries the architecture (Runtime.get_image_name_tag + has_runtime_multi_arch_image).
IMAGE=public.ecr.aws/lambda/python:${PYVER}-${SAM_ARCH}
RECIPE_HASH=$( { cat "${BASH_SOURCE[0]}"; echo "$SAM_ARCH"; } | sha256sum | cut -c1-32)

"$SCRIPT_DIR/docker.sh" >/dev/null || die "no Docker engine (tools/sam_local/docker.sh failed)"

# The tag itself is checked, not "any image with the label": SAM CLI's per-function images are
# built FROM this one and inherit its labels.
use_cached_image() {
    local recipe
    [ "${FORCE:-0}" != 1 ] || return 1
    recipe=$(docker image inspect --format "{{ index .Config.Labels \"${LABEL_KEY}\" }}" "$IMAGE" 2>/dev/null) || return 1
    [ "$recipe" = "$RECIPE_HASH" ] || return 1
    log "$IMAGE is up to date (recipe ${RECIPE_HASH}); nothing to build"
}
use_cached_image && exit 0

START=$(date +%s)
[ "$(id -u)" = 0 ] || die "debootstrap needs root"
mkdir -p "$WORK_DIR"
# One build at a time (two CI steps, two shells): the second waits, then finds the first's image.
exec 9>"$WORK_DIR/.lock"
flock 9
if [ "${FORCE:-0}" != 1 ] && use_cached_image; then exit 0; fi

if ! command -v debootstrap >/dev/null 2>&1; then
    log "installing debootstrap with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    { apt-get update -qq && apt-get install -y -qq --no-install-recommends debootstrap; } \
        >/tmp/build-image-apt.log 2>&1 || die "apt-get install debootstrap failed (see /tmp/build-image-apt.log)"
fi
[ -e /usr/share/debootstrap/scripts/$SUITE ] || die "this debootstrap does not know Debian $SUITE"

# The Debian mirror this machine's apt uses (first "…/debian" URI of sources.list*), unless given.
if [ -z "${DEBIAN_MIRROR:-}" ]; then
    DEBIAN_MIRROR=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null \
        | grep -vE '^[[:space:]]*#' | grep -oE 'https?://[^[:space:]]+/debian/?([[:space:]]|$)' \
        | head -n 1 | tr -d '[:space:]' || true)
    DEBIAN_MIRROR=${DEBIAN_MIRROR%/}
    DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
fi

# A pip for --target installs of wheels for the image's Python (any host Python will do: the
# wheels are chosen with --python-version/--platform, not for the host).
PIP_PYTHON=${PIP_PYTHON:-}
if [ -z "$PIP_PYTHON" ]; then
    for candidate in "$SCRIPT_DIR/../../.venv/bin/python" "$HOME/.pyenv/versions/3.13.0/bin/python3.13" python3.13 python3; do
        if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -m pip --version >/dev/null 2>&1; then
            PIP_PYTHON=$candidate
            break
        fi
    done
fi
[ -n "$PIP_PYTHON" ] || die "no Python with pip found to install awslambdaric and boto3 (set PIP_PYTHON)"

ROOTFS=$WORK_DIR/rootfs-$SAM_ARCH
DEB_CACHE=$WORK_DIR/debs-$SAM_ARCH
mkdir -p "$WORK_DIR" "$DEB_CACHE"

cleanup_rootfs() {
    # debootstrap mounts proc/sys in the target; never rm -rf through a live mount.
    local m
    for m in $(awk -v r="$ROOTFS" '$2 ~ "^"r"/" {print $2}' /proc/mounts | sort -r); do
        umount -l "$m" 2>/dev/null || true
    done
    if awk -v r="$ROOTFS" '$2 ~ "^"r"/" {found=1} END {exit !found}' /proc/mounts; then
        die "mounts remain under $ROOTFS; not removing it"
    fi
    rm -rf "$ROOTFS"
}
cleanup_rootfs
trap cleanup_rootfs EXIT

log "debootstrap $SUITE ($DEB_ARCH, minbase) from $DEBIAN_MIRROR into $ROOTFS"
# libstdc++6: awslambdaric's runtime_client extension links it; ca-certificates: HTTPS for code
# that does not use botocore's own CA bundle.
debootstrap --variant=minbase --arch="$DEB_ARCH" --cache-dir="$DEB_CACHE" \
    --include=python3,libstdc++6,ca-certificates,tzdata \
    "$SUITE" "$ROOTFS" "$DEBIAN_MIRROR" >"$WORK_DIR/debootstrap.log" 2>&1 \
    || die "debootstrap failed: $(tail -n 1 "$WORK_DIR/debootstrap.log") (see $WORK_DIR/debootstrap.log)"
chroot "$ROOTFS" "/usr/bin/python$PYVER" -c 'import sys; assert sys.version_info[:2] == (3, 13), sys.version' \
    || die "the $SUITE rootfs has no working python$PYVER"

pip_target() {  # pip_target DIR PINS... : wheels only, for CPython 3.13 on manylinux/this arch
    local target=$1; shift
    "$PIP_PYTHON" -m pip install --quiet --disable-pip-version-check --no-compile \
        --target "$target" --only-binary=:all: \
        --implementation cp --python-version "$PYVER" --abi "cp${PYVER/./}" --abi abi3 --abi none \
        --platform "manylinux_2_28_$PIP_ARCH" --platform "manylinux_2_17_$PIP_ARCH" \
        --platform "manylinux2014_$PIP_ARCH" --platform "manylinux_2_5_$PIP_ARCH" \
        --platform "manylinux1_$PIP_ARCH" --platform any \
        "$@" 2> >(grep -v "^WARNING: Location 'file:" >&2) \
        || die "pip install into $target failed"
}

# Layout of AWS's own images: the Runtime Interface Client in /var/runtime, the SDK in
# /var/lang/lib/python3.13/site-packages.
log "pip: ${RIC_PINS[*]} -> /var/runtime; ${BOTO3_PINS[*]} -> /var/lang/lib/python$PYVER/site-packages"
pip_target "$ROOTFS/var/runtime" "${RIC_PINS[@]}"
pip_target "$ROOTFS/var/lang/lib/python$PYVER/site-packages" "${BOTO3_PINS[@]}"
# `python3` started by hand in the image (docker run … python3) sees the SDK too.
echo "/var/lang/lib/python$PYVER/site-packages" >"$ROOTFS/usr/lib/python3/dist-packages/lambda-sdk.pth"

cat >"$ROOTFS/var/runtime/bootstrap" <<'EOF'
#!/bin/sh
# Lambda Python 3.13 bootstrap: the emulator (aws-lambda-rie) runs this with the handler in
# $_HANDLER and the Runtime API address in $AWS_LAMBDA_RUNTIME_API.
export AWS_EXECUTION_ENV=${AWS_EXECUTION_ENV:-AWS_Lambda_python3.13}
export LAMBDA_TASK_ROOT=${LAMBDA_TASK_ROOT:-/var/task}
export LAMBDA_RUNTIME_DIR=${LAMBDA_RUNTIME_DIR:-/var/runtime}
handler=${1:-${_HANDLER:-$AWS_LAMBDA_FUNCTION_HANDLER}}
cd "$LAMBDA_TASK_ROOT" || exit 1
if [ -n "$AWS_LAMBDA_EXEC_WRAPPER" ]; then
    exec "$AWS_LAMBDA_EXEC_WRAPPER" /usr/bin/python3.13 -s "$LAMBDA_RUNTIME_DIR/bootstrap.py" "$handler"
fi
exec /usr/bin/python3.13 -s "$LAMBDA_RUNTIME_DIR/bootstrap.py" "$handler"
EOF
cat >"$ROOTFS/var/runtime/bootstrap.py" <<'EOF'
"""Start awslambdaric with Lambda's sys.path order:
/var/task, the layers (/opt/python/lib/python3.13/site-packages, /opt/python), $PYTHONPATH,
the standard library, then the runtime's own packages (/var/runtime, the SDK)."""

import os
import site
import sys

pyver = f"python{sys.version_info[0]}.{sys.version_info[1]}"
task_root = os.environ.get("LAMBDA_TASK_ROOT", "/var/task")
runtime_dir = os.environ.get("LAMBDA_RUNTIME_DIR", "/var/runtime")
sdk_dir = f"/var/lang/lib/{pyver}/site-packages"
user_path = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
stdlib = [
    p
    for p in sys.path[1:]  # [0] is this script's directory
    if p not in user_path and not p.endswith(("site-packages", "dist-packages"))
]
ordered = [task_root, f"/opt/python/lib/{pyver}/site-packages", "/opt/python", *user_path, *stdlib, runtime_dir]
sys.path[:] = list(dict.fromkeys(ordered))
site.addsitedir(sdk_dir)  # appended last, .pth files honoured

from awslambdaric.__main__ import main  # noqa: E402

if __name__ == "__main__":
    if len(sys.argv) < 2 or not sys.argv[1]:
        sys.exit("bootstrap: no handler (_HANDLER is empty)")
    main([sys.argv[0], sys.argv[1]])
EOF
chmod 0755 "$ROOTFS/var/runtime/bootstrap"

# Like the public images: the entrypoint starts the emulator when one is there (SAM CLI replaces
# the entrypoint anyway), or runs the bootstrap directly under a Runtime API.
cat >"$ROOTFS/lambda-entrypoint.sh" <<'EOF'
#!/bin/sh
if [ $# -eq 0 ]; then
    echo "usage: <image> <handler>   (e.g. app.lambda_handler)" >&2
    exit 64
fi
export _HANDLER="$1"
if [ -z "$AWS_LAMBDA_RUNTIME_API" ] && [ -x /var/rapid/aws-lambda-rie ]; then
    exec /var/rapid/aws-lambda-rie /var/runtime/bootstrap "$@"
fi
exec /var/runtime/bootstrap "$@"
EOF
chmod 0755 "$ROOTFS/lambda-entrypoint.sh"

mkdir -p "$ROOTFS/var/task" "$ROOTFS/opt" "$ROOTFS/var/rapid"
chmod 1777 "$ROOTFS/tmp"
# Slim the image: no apt lists or caches, docs, man pages or locales other than C.
rm -rf "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/cache/apt/* "$ROOTFS"/usr/share/doc/* \
    "$ROOTFS"/usr/share/man/* "$ROOTFS"/usr/share/info/* "$ROOTFS"/var/log/*.log

log "importing into Docker as $IMAGE"
previous=$(docker image inspect --format '{{.Id}}' "$IMAGE" 2>/dev/null || true)
image_id=$(tar -C "$ROOTFS" --numeric-owner --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' -cf - . \
    | docker import \
        --change "LABEL ${LABEL_KEY}=${RECIPE_HASH}" \
        --change "LABEL serverless-orders.sam-local.pins=\"${RIC_PINS[*]} ${BOTO3_PINS[*]}\"" \
        --change "ENV LANG=C.UTF-8" \
        --change "ENV TZ=:UTC" \
        --change "ENV PATH=/var/lang/bin:/usr/local/bin:/usr/bin:/bin:/opt/bin" \
        --change "ENV LD_LIBRARY_PATH=/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib" \
        --change "ENV LAMBDA_TASK_ROOT=/var/task" \
        --change "ENV LAMBDA_RUNTIME_DIR=/var/runtime" \
        --change "WORKDIR /var/task" \
        --change 'ENTRYPOINT ["/lambda-entrypoint.sh"]' \
        - "$IMAGE") || die "docker import failed"
docker tag "$IMAGE" "public.ecr.aws/lambda/python:${PYVER}"  # the unsuffixed name, as pulled on this arch

# Best effort: drop the image this one replaces (kept while a container or a child image uses it).
if [ -n "$previous" ] && [ "$previous" != "$image_id" ]; then
    docker rmi "$previous" >/dev/null 2>&1 || true
fi

# Smoke test: the image's Python, the SDK and the Runtime Interface Client (with its extension).
docker run --rm --entrypoint /bin/sh "$IMAGE" -c \
    'PYTHONPATH=/var/runtime python3.13 -c "import sys, boto3, awslambdaric, runtime_client; print(\"python\", sys.version.split()[0], \"boto3\", boto3.__version__)"' >&2 \
    || die "the image cannot import boto3/awslambdaric"

log "built $IMAGE (${image_id#sha256:}) in $(( $(date +%s) - START ))s; recipe ${RECIPE_HASH}"
docker image ls "public.ecr.aws/lambda/python" >&2
