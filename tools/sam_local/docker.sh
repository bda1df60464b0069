#!/usr/bin/env bash
# Make a Docker engine available for `sam local` on a Debian machine without systemd: install
# Debian's docker.io if dockerd is missing, start dockerd in the background if no daemon answers,
# and wait until `docker info` works. Idempotent: with a daemon already up it only checks it.
# On failure it prints one line saying why and exits non-zero.
#
#   tools/sam_local/docker.sh            # install + start + wait (needs root the first time)
#   DOCKERD_LOG=/tmp/dockerd.log         # where the daemon's output goes (default shown)
#   DOCKER_WAIT_SECONDS=60               # how long to wait for the daemon
set -uo pipefail

DOCKERD_LOG=${DOCKERD_LOG:-/tmp/dockerd.log}
DOCKER_WAIT_SECONDS=${DOCKER_WAIT_SECONDS:-60}

die() { echo "docker.sh: $*" >&2; exit 1; }

# A daemon that already answers (this script's earlier run, Docker Desktop, a CI service): done.
if docker info >/dev/null 2>&1; then
    echo "docker.sh: docker engine already running ($(docker version --format '{{.Server.Version}}' 2>/dev/null))"
    exit 0
fi

if ! command -v dockerd >/dev/null 2>&1; then
    [ "$(id -u)" = 0 ] || die "dockerd is not installed and installing docker.io needs root"
    command -v apt-get >/dev/null 2>&1 || die "dockerd is not installed and there is no apt-get to install docker.io"
    echo "docker.sh: installing docker.io with apt-get" >&2
    export DEBIAN_FRONTEND=noninteractive
    # The package lists may be missing or stale on a fresh machine.
    apt-get update -qq >/tmp/docker-sh-apt.log 2>&1 || die "apt-get update failed (see /tmp/docker-sh-apt.log)"
    # --no-install-recommends: no systemd/cgroupfs-mount/git extras; iptables, containerd, runc and
    # tini come as dependencies of docker.io.
    apt-get install -y -qq --no-install-recommends docker.io >>/tmp/docker-sh-apt.log 2>&1 \
        || die "apt-get install docker.io failed (see /tmp/docker-sh-apt.log)"
    command -v dockerd >/dev/null 2>&1 || die "docker.io installed but dockerd is not on PATH"
fi

if ! command -v docker >/dev/null 2>&1; then
    die "dockerd is installed but there is no docker client on PATH"
fi

STARTED_PID=
dockerd_running() {
    { [ -n "$STARTED_PID" ] && kill -0 "$STARTED_PID" 2>/dev/null; } \
        || { [ -f /var/run/docker.pid ] && kill -0 "$(cat /var/run/docker.pid 2>/dev/null)" 2>/dev/null; } \
        || pgrep -x dockerd >/dev/null 2>&1
}

# A daemon process may already be starting (e.g. two callers at once): only start one if none runs.
if ! dockerd_running; then
    [ "$(id -u)" = 0 ] || die "no docker daemon is running and starting dockerd needs root"
    # A stale pid file from a killed daemon makes dockerd refuse to start.
    if [ -f /var/run/docker.pid ] && ! kill -0 "$(cat /var/run/docker.pid 2>/dev/null)" 2>/dev/null; then
        rm -f /var/run/docker.pid
    fi
    echo "docker.sh: starting dockerd (log: $DOCKERD_LOG)" >&2
    # setsid + nohup: the daemon outlives this script and the shell that called it.
    setsid nohup dockerd >"$DOCKERD_LOG" 2>&1 </dev/null &
    STARTED_PID=$!
fi

for _ in $(seq 1 "$DOCKER_WAIT_SECONDS"); do
    if docker info >/dev/null 2>&1; then
        echo "docker.sh: docker engine ready ($(docker version --format '{{.Server.Version}}' 2>/dev/null))"
        exit 0
    fi
    if ! dockerd_running; then
        die "dockerd exited: $(grep -E 'level=(fatal|error)|failed' "$DOCKERD_LOG" 2>/dev/null | tail -n 1 | cut -c1-300)"
    fi
    sleep 1
done
die "dockerd did not answer within ${DOCKER_WAIT_SECONDS}s (see $DOCKERD_LOG)"
