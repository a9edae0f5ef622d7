"""Helpers for the Python tests (tests/adbc, tests/reports): the socialcx binary and generated
lakes. tests/pytest.ini puts this directory on sys.path."""
import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def binary() -> str:
    """The release binary `cargo test --release` built (or $SOCIALCX_BIN)."""
    if os.environ.get("SOCIALCX_BIN"):
        return os.environ["SOCIALCX_BIN"]
    target = os.environ.get("CARGO_TARGET_DIR", str(Path.home() / ".cache/socialcx-target"))
    path = Path(target) / "release" / "socialcx"
    if not path.exists():
        pytest.exit(f"no socialcx binary at {path}: run `cargo build --release` first", 2)
    return str(path)


def generated_lake(root: Path, rows: int, seed: int, days: int = 90) -> Path:
    """A lake at root/lake holding `rows` generated messages over `days` days."""
    data = root / "convs.ndjson"
    subprocess.run([binary(), "generate", "--rows", str(rows), "--seed", str(seed),
                    "--days", str(days), "--out", str(data), "--no-progress"],
                   check=True, capture_output=True)
    subprocess.run([binary(), "--lake", str(root / "lake"), "ingest", str(data), "--no-progress"],
                   check=True, capture_output=True)
    return root / "lake"
