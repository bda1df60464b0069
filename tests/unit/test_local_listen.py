"""Where `make dev` and the sam-local check listen: loopback, plus the Docker bridge's address for
`sam local` containers; an address of every interface is refused."""

import re

import pytest

from local_stack.listen import docker_bridge_address, interface_address, listen_addresses, one_interface


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
