"""Where `make dev` and the sam-local check listen: loopback, plus the Docker bridge's address for
`sam local` containers; an address of every interface is refused."""

import re
import socket

import pytest

from local_stack.listen import (
    docker_bridge_address,
    free_port,
    interface_address,
    listen_addresses,
    listening_sockets,
    one_interface,
)


def test_make_dev_listens_on_loopback_and_adds_only_the_containers_address():
    assert listen_addresses() == ("127.0.0.1",)
    assert listen_addresses("127.0.0.1") == ("127.0.0.1",)
    assert listen_addresses("172.17.0.1") == ("127.0.0.1", "172.17.0.1")


@pytest.mark.parametrize("every_interface", ["0.0.0.0", "::", ""])
def test_an_address_of_every_interface_is_refused(every_interface):
    refused = re.escape("listens on every interface: use 127.0.0.1 or the Docker bridge's address")
    with pytest.raises(ValueError, match=refused):
        listen_addresses(every_interface)
    with pytest.raises(ValueError, match="listens on every interface"):
        one_interface(every_interface)
    assert one_interface("127.0.0.1") == "127.0.0.1"


def test_the_containers_address_is_read_from_the_bridge_interface():
    assert interface_address("lo") == "127.0.0.1"
    assert docker_bridge_address("lo") == "127.0.0.1"  # what it reads from docker0 where Docker runs
    assert interface_address("no-such-if0") is None
    with pytest.raises(RuntimeError, match="no-such-if0 has no IPv4 address: is Docker Engine running"):
        docker_bridge_address("no-such-if0")


def test_make_devs_own_ports_are_held_from_the_moment_they_are_chosen():
    """The payment fake's port, chosen by the kernel, bound on each address at once: no other
    program can take it before the server serves on it (a port only probed as free could be)."""
    with listening_sockets(("127.0.0.1", "127.0.0.2")) as (first, second):
        port = first.getsockname()[1]
        assert port > 0
        assert second.getsockname() == ("127.0.0.2", port)
        with pytest.raises(OSError, match="Address already in use"):
            socket.create_server(("127.0.0.1", port))
        with socket.create_connection(("127.0.0.2", port), timeout=5):
            pass  # listening: a connection is accepted into its backlog
    with socket.create_server(("127.0.0.1", port)):
        pass  # given back on exit


def test_a_given_port_is_used_on_every_address():
    port = free_port()
    with listening_sockets(("127.0.0.1", "127.0.0.2"), port) as bound:
        assert [sock.getsockname() for sock in bound] == [("127.0.0.1", port), ("127.0.0.2", port)]
