"""One `sam build` of the application (this machine's architecture) for every build test."""

from pathlib import Path

import pytest

from support.sam_build import HOST_ARCHITECTURE, sam_build


@pytest.fixture(scope="session")
def build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sam_build(tmp_path_factory.mktemp("sam") / "build", HOST_ARCHITECTURE)
