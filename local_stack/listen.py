"""Where `make dev` listens: on loopback, and, for `sam local` containers, also on the Docker bridge's
address (docker0) — never on every interface, which would open moto's admin API (the user pool, the
payment key's secret, /moto-api/reset) to the whole network."""

from __future__ import annotations

import fcntl
import socket
import struct
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

LOOPBACK = "127.0.0.1"
EVERY_INTERFACE = frozenset({"", "0.0.0.0", "::"})  # noqa: S104 - named to be refused
SIOCGIFADDR = 0x8915  # Linux ioctl: an interface's IPv4 address


def one_interface(address: str) -> str:
    """The address, unless it stands for every interface (ValueError)."""
    if address in EVERY_INTERFACE:
        raise ValueError(
            f"{address or 'an empty address'} listens on every interface: use {LOOPBACK} or the Docker bridge's address"
        )
    return address


def listen_addresses(container_host: str = LOOPBACK) -> tuple[str, ...]:
    """Loopback (where make dev's own workers, the CLI and tests reach the server), plus the address
    containers reach the host by when it is another one."""
    return (LOOPBACK,) if one_interface(container_host) == LOOPBACK else (LOOPBACK, container_host)


def interface_address(name: str) -> str | None:
    """The IPv4 address of a network interface (docker0: the Docker bridge), None if it has none."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            answer = fcntl.ioctl(probe.fileno(), SIOCGIFADDR, struct.pack("256s", name[:15].encode()))
        except OSError:
            return None
    return socket.inet_ntoa(answer[20:24])


def docker_bridge_address(interface: str = "docker0") -> str:
    """Where `sam local` containers reach the host: `host.docker.internal` is Docker's host-gateway,
    the bridge's address (RuntimeError when the bridge has none: Docker Engine is not running)."""
    address = interface_address(interface)
    if address is None:
        raise RuntimeError(f"{interface} has no IPv4 address: is Docker Engine running?")
    return address


def free_port() -> int:
    """A port free now, for another process to bind, which may find it taken meanwhile (where this
    process serves, `listening_sockets` holds its port from the start)."""
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


@contextmanager
def listening_sockets(addresses: tuple[str, ...], port: int = 0) -> Iterator[tuple[socket.socket, ...]]:
    """A listening TCP socket on each address, all on one port: `port`, or with 0 the one the kernel
    gives the first address (so never one taken between being chosen and being bound)."""
    with ExitStack() as sockets:
        bound: list[socket.socket] = []
        for address in addresses:
            bound.append(sockets.enter_context(socket.create_server((address, port))))
            port = bound[0].getsockname()[1]
        yield tuple(bound)
