"""The report page in a real browser: headless Chromium (Debian's `chromium`, installed by
tests/run) loads the page with the network off, and every chart must have drawn its marks:
as many heatmap cells as the channel audit has rows, a hatched cell for each of its gaps, a
bar per influencer and per triaged conversation, a band and a line for the baseline trend."""
import csv
import io
import os
import shutil
import subprocess
from html.parser import HTMLParser

import pytest
from duckdb_reports import socialcx
from socialcx_testing import binary, generated_lake

REPORTS = ["baseline", "channel_audit", "influencers", "triage", "vs_baseline"]


def chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    pytest.fail("chromium is not installed (tests/run installs Debian's chromium)")


def browser(*args: str) -> subprocess.CompletedProcess:
    profile = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"socialcx-chromium-{os.getpid()}")
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={profile}", "--virtual-time-budget=5000"]
    done = subprocess.run([chromium(), *flags, *args], capture_output=True, text=True, timeout=120)
    shutil.rmtree(profile, ignore_errors=True)
    return done


class Charts(HTMLParser):
    """The charts of a page as the browser left it: (aria-label, attributes, mark classes)."""

    def __init__(self):
        super().__init__()
        self.charts, self.body, self._open = [], {}, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "body":
            self.body = attrs
        if tag == "svg" and "chart" in (attrs.get("class") or ""):
            self._open = {"label": attrs.get("aria-label"), "attrs": attrs, "marks": []}
            self.charts.append(self._open)
        elif self._open is not None and "mark" in (attrs.get("class") or "").split():
            self._open["marks"].append(attrs.get("class"))

    def handle_endtag(self, tag):
        if tag == "svg":
            self._open = None


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    root = tmp_path_factory.mktemp("page")
    lake = generated_lake(root, 20_000, seed=21, days=60)
    path = root / "cx.html"
    socialcx(binary(), lake, "report", *REPORTS, "-p", "min_posts=40", "--format", "html",
             "-o", str(path))
    audit = list(csv.DictReader(io.StringIO(
        socialcx(binary(), lake, "report", "channel_audit", "-p", "min_posts=40", "--format", "csv"))))
    return path, audit


def test_every_chart_draws_in_chromium(page, tmp_path):
    path, audit = page
    done = browser("--dump-dom", path.as_uri())
    assert done.returncode == 0, done.stderr
    dom = Charts()
    dom.feed(done.stdout)
    assert dom.body.get("data-charts"), "the page's check did not run in the browser"
    assert int(dom.body["data-charts"]) == len(dom.charts) >= 5
    for chart in dom.charts:
        width, height = map(int, chart["attrs"]["data-size"].split("x"))
        assert width > 300 and height > 80, chart["label"]
        drawn = int(chart["attrs"]["data-drawn"])
        assert drawn == len(chart["marks"]) > 0, (chart["label"], drawn, len(chart["marks"]))

    heatmap = [c for c in dom.charts if c["label"].startswith("Journey stage x channel")]
    assert len(heatmap) == 1
    assert len(heatmap[0]["marks"]) == len(audit)
    gaps = sum(1 for row in audit if row["gap"] == "true")
    assert 0 < gaps < len(audit)
    assert heatmap[0]["marks"].count("mark gap") == gaps

    trend = next(c for c in dom.charts if c["label"].startswith("Mean customer sentiment per day, all"))
    assert "mark band" in trend["marks"] and "mark line" in trend["marks"]
    days = sum(1 for m in trend["marks"] if m in ("mark point", "mark breach"))
    assert days >= 59

    leaderboard = next(c for c in dom.charts if c["label"].startswith("Influencer leaderboard"))
    assert len(leaderboard["marks"]) == 25
    queue = next(c for c in dom.charts if c["label"].startswith("Triage queue"))
    assert len(queue["marks"]) == 25


def test_the_page_renders_to_a_picture(page, tmp_path):
    path, _ = page
    shot = tmp_path / "cx.png"
    done = browser(f"--screenshot={shot}", "--window-size=1200,2400", path.as_uri())
    assert done.returncode == 0, done.stderr
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 50_000
    keep = os.environ.get("SOCIALCX_KEEP_SCREENSHOT")
    if keep:
        shutil.copy(shot, keep)
