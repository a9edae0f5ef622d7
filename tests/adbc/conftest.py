"""A socialcx Flight SQL server over a generated lake, for the ADBC driver's tests.

The server is the release binary that `cargo test --release` built (or $SOCIALCX_BIN), started
with credentials on an ephemeral port; its log (one line per query) is kept for the tests.
"""
import os
import re
import signal
import subprocess
import time

import pytest
from socialcx_testing import binary, generated_lake

USER, PASSWORD = "analyst", "s3cret pass"
ROWS = 20_000


class Server:
    def __init__(self, uri, process, log):
        self.uri, self.process, self.log = uri, process, log

    def log_text(self) -> str:
        return self.log.read_text()


@pytest.fixture(scope="session")
def lake(tmp_path_factory):
    lake = generated_lake(tmp_path_factory.mktemp("lake"), ROWS, seed=5)
    # Two days of the shipped baseline job: metrics.baseline_daily and job_runs for the server.
    subprocess.run([binary(), "--lake", str(lake), "jobs", "backfill", "baseline_daily",
                    "--from", "2026-01-15", "--to", "2026-01-16", "--no-progress"],
                   check=True, capture_output=True)
    return lake


@pytest.fixture(scope="session")
def server(lake, tmp_path_factory):
    log = tmp_path_factory.mktemp("server") / "server.log"
    env = dict(os.environ, SOCIALCX_USER=USER, SOCIALCX_PASSWORD=PASSWORD,
               SOCIALCX_MEMORY_LIMIT="2GiB")
    env.pop("SOCIALCX_TOKEN", None)
    with open(log, "w") as out:
        process = subprocess.Popen([binary(), "--lake", str(lake), "serve", "--addr", "127.0.0.1:0"],
                                   stdout=out, stderr=subprocess.STDOUT, env=env)
    deadline = time.time() + 60
    uri = None
    while time.time() < deadline and uri is None:
        match = re.search(r"server on (127\.0\.0\.1:\d+)", log.read_text())
        if match:
            uri = f"grpc://{match.group(1)}"
        elif process.poll() is not None:
            pytest.fail(f"server exited: {log.read_text()}")
        else:
            time.sleep(0.1)
    assert uri, f"server did not start: {log.read_text()}"
    yield Server(uri, process, log)
    # Graceful shutdown on SIGTERM.
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0, log.read_text()
