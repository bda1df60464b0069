"""make dev's outputs file is how everything else finds the stack: whoever waits for it reads it whole."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from local_stack.server import write_whole


def test_a_reader_waiting_for_the_outputs_file_reads_it_whole_never_a_part(tmp_path: Path) -> None:
    document = {"StorefrontApiUrl": "http://127.0.0.1:3000", "Padding": "x" * 4_000_000}
    files = [tmp_path / "out" / f"outputs-{n}.json" for n in range(10)]
    read: list[object] = []

    def wait_and_read() -> None:
        for file in files:
            while not file.exists():
                pass
            text = file.read_text()
            read.append(json.loads(text) if text.endswith("}") else f"{len(text)} characters")

    reader = threading.Thread(target=wait_and_read, daemon=True)
    reader.start()
    for file in files:
        write_whole(file, document)
    reader.join(timeout=30)

    assert read == [document] * len(files)
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == sorted(file.name for file in files)
