"""The report page in a real browser: headless Chromium (Debian's `chromium`, installed by
tests/run) loads the page with the network off, and every chart must have drawn its marks:
as many heatmap cells as the channel audit has rows, a hatched cell for each of its gaps, a
bar per influencer and per triaged conversation, a band and a line for the baseline trend.
What a reader relies on is checked the same way, on the page as the browser laid it out:
every chart has a legend and no text outside its box, time axes carry years, each section
states its period and sample, rates read as percentages, the queue shows the messages an
agent must read, influencers their handle, followers and an example post, no cell is cut
off, and a long table prints whole."""
import csv
import io
import os
import re
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


class Page(HTMLParser):
    """The page as the browser left it: its charts (aria-label, attributes, mark classes, the
    words drawn, the legend under it), and per section its period line, table and lists."""

    def __init__(self):
        super().__init__()
        self.charts, self.body, self.sections = [], {}, {}
        self._chart = self._figure = self._section = None
        self._text = self._title = None
        self._capture = None  # (kind, buffer) of an element whose words are collected
        self._row = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = (attrs.get("class") or "").split()
        if tag == "body":
            self.body = attrs
        if tag == "section":
            self._section = {"period": "", "head": [], "rows": [], "queue": [], "people": []}
            self.sections[attrs.get("id")] = self._section
        if tag == "figure":
            self._figure = {"legend": ""}
        if tag == "svg" and "chart" in classes:
            self._chart = {"label": attrs.get("aria-label"), "attrs": attrs, "marks": [],
                           "texts": [], "figure": self._figure}
            self.charts.append(self._chart)
        elif self._chart is not None and "mark" in classes:
            self._chart["marks"].append(attrs.get("class"))
        if self._chart is not None and tag == "text":
            self._text = []
        if tag == "title":
            self._title = True
        if tag == "figcaption" and "legend" in classes:
            self._capture = ("legend", [])
        if tag == "p" and "period" in classes:
            self._capture = ("period", [])
        if tag == "p" and "meta" in classes:
            self._capture = ("meta", [])
        if tag == "blockquote":
            self._capture = ("quote", [])
        if tag == "li" and self._section is not None:
            self._item = {"meta": "", "quote": None}
            parent = "queue" if self._list == "queue" else "people"
            self._section[parent].append(self._item)
        if tag == "ol":
            self._list = "queue" if "queue" in classes else "people"
        if tag == "tr":
            self._row = []
        if tag in ("td", "th"):
            self._capture = (tag, [])

    def handle_endtag(self, tag):
        if tag == "svg" and self._chart is not None:
            self._chart = None
        if tag == "title":
            self._title = None
        if tag == "text" and self._text is not None and self._chart is not None:
            self._chart["texts"].append("".join(self._text))
            self._text = None
        if self._capture is not None:
            kind, words = self._capture
            ends = {"legend": "figcaption", "period": "p", "meta": "p", "quote": "blockquote",
                    "td": "td", "th": "th"}[kind]
            if tag == ends:
                text = "".join(words)
                if kind == "legend" and self._figure is not None:
                    self._figure["legend"] = text
                elif kind == "period":
                    self._section["period"] = text
                elif kind in ("meta", "quote"):
                    self._item[kind] = text
                else:
                    self._row.append(text)
                self._capture = None
        if tag == "tr" and self._row is not None and self._section is not None:
            if self._section["head"]:
                self._section["rows"].append(self._row)
            else:
                self._section["head"] = self._row
            self._row = None
        if tag == "figure":
            self._figure = None

    def handle_data(self, data):
        if self._text is not None and not self._title:
            self._text.append(data)
        if self._capture is not None:
            self._capture[1].append(data)

    _list = "people"
    _item = {"meta": "", "quote": None}


def report_csv(lake, name, *params):
    return list(csv.DictReader(io.StringIO(
        socialcx(binary(), lake, "report", name, *params, "--format", "csv"))))


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    root = tmp_path_factory.mktemp("page")
    lake = generated_lake(root, 20_000, seed=21, days=60)
    path = root / "cx.html"
    socialcx(binary(), lake, "report", *REPORTS, "-p", "min_posts=40", "--format", "html",
             "-o", str(path))
    return path, lake, report_csv(lake, "channel_audit", "-p", "min_posts=40")


@pytest.fixture(scope="module")
def dom(page):
    path = page[0]
    done = browser("--dump-dom", path.as_uri())
    assert done.returncode == 0, done.stderr
    parsed = Page()
    parsed.feed(done.stdout)
    assert parsed.body.get("data-charts"), "the page's check did not run in the browser"
    return parsed


def test_every_chart_draws_in_chromium(page, dom):
    _, _, audit = page
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
    # One point a day, 2026-01-01 to 2026-03-01 (the last complete day: the generator's 60th).
    days = sum(1 for m in trend["marks"] if m in ("mark point", "mark breach", "mark thin"))
    assert days == 60

    leaderboard = next(c for c in dom.charts if c["label"].startswith("Influencer leaderboard"))
    assert len(leaderboard["marks"]) == 25
    queue = next(c for c in dom.charts if c["label"].startswith("Triage queue"))
    assert len(queue["marks"]) == 25


def test_charts_have_legends_years_and_nothing_cut_off(dom):
    for chart in dom.charts:
        # Every chart explains its colours and marks beneath it.
        assert chart["figure"] is not None and len(chart["figure"]["legend"]) > 10, chart["label"]
        # No word of a chart outside its box (labels used to run off the left edge).
        assert chart["attrs"]["data-overflow"] == "0", (chart["label"], chart["texts"])
    legends = {c["label"]: c["figure"]["legend"] for c in dom.charts}
    trend = next(v for k, v in legends.items() if k.startswith("Mean customer sentiment per day, all"))
    assert "baseline band" in trend and "outside its band" in trend and "not judged" in trend
    audit = next(v for k, v in legends.items() if k.startswith("Journey stage x channel"))
    assert "net sentiment" in audit and "gap: fewer than 40 customer posts" in audit
    changes = next(v for k, v in legends.items() if "z" in k and ("Flagged" in k or "flagged" in k))
    assert "above its baseline" in changes and "threshold" in changes
    queue = next(v for k, v in legends.items() if k.startswith("Triage queue"))
    assert "support" in queue
    # Time axes carry the year: the trend's day labels are ISO dates.
    trend_chart = next(c for c in dom.charts if c["label"].startswith("Customer posts per day"))
    dates = [t for t in trend_chart["texts"] if re.fullmatch(r"\d{4}-\d{2}-\d{2}", t)]
    assert len(dates) >= 5 and dates[0] == "2026-01-01", trend_chart["texts"]
    # No cell, quote or line of the page cuts its text, and no table hides rows in a box
    # that scrolls (what scrolls does not print).
    assert dom.body["data-clipped"] == "0"
    assert dom.body["data-scroll-boxes"] == "0"


def test_each_section_states_its_period_and_sample(page, dom):
    _, lake, audit = page
    baseline = dom.sections["baseline"]["period"]
    assert "to 2026-03-01 (UTC, included), through the last complete day" in baseline, baseline
    rows = report_csv(lake, "baseline")
    posts = sum(int(r["customer_posts"]) for r in rows)
    assert f"{posts:,} customer posts in {len(rows):,} " in baseline, baseline
    changes = dom.sections["vs_baseline"]["period"]
    assert changes.startswith("period 2026-02-23 to 2026-03-01 (UTC, 7 days)"), changes
    assert "baseline 2026-01-26 to 2026-02-22 (28 days before)" in changes, changes
    assert "customer posts in the period" in changes and "changes flagged" in changes
    audit_line = dom.sections["channel_audit"]["period"]
    stage_posts = sum(int(r["customer_posts"]) for r in audit)
    assert f"{stage_posts:,} customer posts with a journey stage" in audit_line, audit_line
    assert "as of the last message" in dom.sections["triage"]["period"]


def test_rates_read_as_percentages(page, dom):
    _, _, audit = page
    section = dom.sections["channel_audit"]
    column = section["head"].index("response_rate")
    shown = [row[column] for row in section["rows"]]
    expected = ["" if r["response_rate"] == "" else f"{100 * float(r['response_rate']):.1f}%"
                for r in audit]
    assert shown == expected
    assert any(s.endswith("%") for s in shown)


def test_triage_shows_the_message_an_agent_must_read(page, dom):
    _, lake, _ = page
    queue = report_csv(lake, "triage")
    items = dom.sections["triage"]["queue"]
    assert len(items) == 25
    for item, row in zip(items, queue):
        assert item["quote"] == row["text"], (item, row["thread_id"])
        assert f"@{row['author_id']}" in item["meta"] and row["team"] in item["meta"]


def test_influencers_show_handle_followers_and_an_example_post(page, dom):
    _, lake, _ = page
    top = report_csv(lake, "influencers")
    people = dom.sections["influencers"]["people"]
    assert len(people) == 10
    for person, row in zip(people, top):
        assert person["meta"].startswith(f"@{row['author_id']} · "), person
        if row["followers"]:
            assert f"{int(row['followers']):,} followers" in person["meta"], person
        assert row["example_post"] and person["quote"] == row["example_post"], person


def test_a_long_table_prints_whole(tmp_path):
    """300 rows print on several pages, not the first screenful of a scroll box."""
    lake = tmp_path / "lake"
    lake.mkdir()
    path = tmp_path / "rows.html"
    socialcx(binary(), lake, "sql", "SELECT value AS n, 'row ' || value AS label "
             "FROM generate_series(1, 300)", "--format", "html", "-o", str(path))
    pdf = tmp_path / "rows.pdf"
    done = browser(f"--print-to-pdf={pdf}", "--no-pdf-header-footer", path.as_uri())
    assert pdf.exists(), done.stderr
    pages = len(re.findall(rb"/Type\s*/Page\b", pdf.read_bytes()))
    # At most about 70 rows of 9 px fit a page: 300 rows need at least 4.
    assert pages >= 4, pages


def test_the_page_renders_to_a_picture(page, tmp_path):
    path = page[0]
    shot = tmp_path / "cx.png"
    done = browser(f"--screenshot={shot}", "--window-size=1200,2400", path.as_uri())
    assert done.returncode == 0, done.stderr
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 50_000
    keep = os.environ.get("SOCIALCX_KEEP_SCREENSHOT")
    if keep:
        shutil.copy(shot, keep)
