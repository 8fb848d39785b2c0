"""The HTML report, its trajectory viewer and the leaderboard, opened in real Chromium: no console
errors, no network, violations lead to their step and evidence, screenshots render, filters,
sorting and side-by-side comparison work."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import anyio
import playwright.sync_api as playwright
import pytest

from agentsafe.browser.launch import launch_options
from agentsafe.bundle.export import bundle_files, export_run, write_tar
from agentsafe.bundle.model import HASHES, META
from agentsafe.leaderboard.site import build_site
from agentsafe.reports.html import write_html_report
from agentsafe.runner.run import execute_run
from agentsafe.scenarios import load_file
from agentsafe.store import RunPlan
from tests.report_data import ROOT, make_runs

pytestmark = [pytest.mark.browser, pytest.mark.bwrap]


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("html")
    store = make_runs(tmp / "runs.sqlite")
    # a phone episode with --screenshots
    [sc] = load_file(ROOT / "scenarios/mobile/inj_sms_transfer.yaml")
    plan = RunPlan(run_id="shots", agent="reckless", scenario_paths=[], scenario_ids=[sc.id],
                   settings={"screenshots": True})
    store.create_run(plan)
    from agentsafe.agents.scripted import ReferenceAgent

    anyio.run(lambda: execute_run(plan, store, [sc], lambda: ReferenceAgent(unsafe=True),
                                  progress=False,
                                  sandbox_options={"mobile": {"screenshots": True}}))
    out = {"report": write_html_report(store, ["careful", "reckless"], tmp / "report.html"),
           "shots": write_html_report(store, ["shots"], tmp / "shots.html")}
    good = [export_run(store, rid, tmp / f"{rid}.agentsafe.tar.gz") for rid in ("careful", "reckless")]
    files = bundle_files(store, "reckless")
    meta = json.loads(files[META])
    meta["run_id"], meta["metrics"]["cr"]["value"] = "forged", 1.0
    files[META] = json.dumps(meta).encode()
    files[HASHES] = json.dumps({k: hashlib.sha256(v).hexdigest() for k, v in files.items()
                                if k != HASHES}).encode()
    forged = write_tar(files, tmp / "forged.agentsafe.tar.gz")
    rows, rejected = build_site([*good, forged], tmp / "site")
    assert len(rows) == 2 and [r.bundle for r in rejected] == ["forged.agentsafe.tar.gz"]
    out["site"] = tmp / "site" / "index.html"
    out["db"] = tmp / "runs.sqlite"
    return out


@pytest.fixture(scope="module")
def browser(built):  # after `built`: its runs need the thread free of any event loop
    with playwright.sync_playwright() as pw:
        b = pw.chromium.launch(**launch_options())
        yield b
        b.close()


@pytest.fixture
def open_page(browser):
    """Open a file URL; collect console errors and any network request (there must be none)."""
    pages = []

    def go(path: Path, hash_: str = ""):
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.errors, page.requests = [], []
        page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: page.errors.append(str(e)))
        page.route(re.compile(r"^(?!file:|data:|blob:|http://127\.0\.0\.1:)"),
                   lambda route: (page.requests.append(route.request.url), route.abort()))
        page.goto(path if isinstance(path, str) else path.as_uri() + hash_)
        page.wait_for_function("window.agentsafeReady === true", timeout=15000)
        pages.append(page)
        return page

    yield go
    for p in pages:
        assert p.errors == [], p.errors
        assert p.requests == [], p.requests
        p.close()


def test_report_loads_offline_with_plots_and_scores(open_page, built) -> None:
    html = built["report"].read_text()
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=\"https?:", html)
    page = open_page(built["report"])
    assert page.locator("#count").inner_text() == "8 of 8 episodes"
    page.wait_for_selector("#fig0 svg", timeout=15000)
    assert page.locator("#figures svg").count() >= 3
    scores = page.locator("table.scores").first.inner_text()
    assert "CuP" in scores and "↑ higher is better" in scores and "[" in scores
    assert "agentsafe-builtin" in page.locator("table.runs").inner_text()


def test_clicking_a_violation_shows_its_step_and_evidence(open_page, built) -> None:
    page = open_page(built["report"])
    page.select_option('select[data-f="agent"]', "reckless")
    page.select_option('select[data-f="outcome"]', "violation")
    page.click("#ep-table tbody tr >> nth=0")
    step = page.locator("#panes details.step.violating").first
    step.wait_for(timeout=10000)
    assert step.get_attribute("open") is not None
    box = step.locator(".evidence-box").first.inner_text()
    assert box.strip()
    assert step.locator(".ev.evidence").count() >= 1  # the violating call is marked
    violated = page.locator("#panes li.v-violated").first
    violated.click()
    n = violated.get_attribute("data-step")
    assert page.locator(f'#panes details.step.focused[data-step="{n}"]').count() == 1
    # the timeline marks the violating step
    assert page.locator(f'#panes .timeline span.bad[data-step="{n}"]').count() == 1


def test_injected_text_is_highlighted_where_exposed(open_page, built) -> None:
    page = open_page(built["report"])
    page.fill("#q", "readme-exfiltrate-env")
    page.select_option('select[data-f="agent"]', "reckless")
    page.click("#ep-table tbody tr >> nth=0")
    page.locator("#panes .timeline span.exp").first.wait_for(timeout=10000)
    page.locator("#panes .timeline span.exp").first.click()
    assert page.locator("#panes details.step[open] mark.inj").count() >= 1


def test_filters_and_sorting(open_page, built) -> None:
    page = open_page(built["report"])
    page.select_option('select[data-f="agent"]', "careful")
    assert page.locator("#count").inner_text() == "4 of 8 episodes"
    page.select_option('select[data-f="agent"]', "")
    page.select_option('select[data-f="outcome"]', "clean")
    clean = int(page.locator("#count").inner_text().split()[0])
    assert 4 <= clean < 8
    page.select_option('select[data-f="outcome"]', "")
    page.click('th[data-sort="violations"]')
    page.click('th[data-sort="violations"]')  # descending
    cells = page.locator("#ep-table tbody tr td:nth-child(8)").all_inner_texts()
    assert [int(c) for c in cells] == sorted((int(c) for c in cells), reverse=True)
    assert int(cells[0]) > 0
    page.select_option('select[data-f="suite"]', "os")
    assert page.locator("#count").inner_text() == "8 of 8 episodes"


def test_two_agents_side_by_side(open_page, built) -> None:
    page = open_page(built["report"])
    page.fill("#q", "backup-fails")
    page.select_option('select[data-f="agent"]', "careful")
    page.click("#ep-table tbody tr >> nth=0")
    page.locator("#panes .pane").first.wait_for(timeout=10000)
    page.select_option("#compare", index=1)
    page.wait_for_function("document.querySelectorAll('#panes .pane').length === 2", timeout=10000)
    heads = page.locator("#panes .pane .hint").all_inner_texts()
    assert any(h.startswith("careful") for h in heads) and any(h.startswith("reckless") for h in heads)


def test_screenshots_render(open_page, built) -> None:
    page = open_page(built["shots"], "#ep=0")
    img = page.locator("#panes img.shot").first
    img.wait_for(state="attached", timeout=10000)
    page.evaluate("document.querySelectorAll('#panes details.step').forEach(d => d.open = true)")
    img.wait_for(state="visible", timeout=5000)
    page.wait_for_function(
        "Array.from(document.querySelectorAll('#panes img.shot')).some(i => i.naturalWidth > 100)",
        timeout=5000)


def test_leaderboard_lists_verified_bundles_sorts_and_links(open_page, built) -> None:
    page = open_page(built["site"])
    rows = page.locator("#board tbody tr")
    assert rows.count() == 2
    assert "forged.agentsafe.tar.gz" in page.locator("#rejected").inner_text()
    assert "summary metric cr.value" in page.locator("#rejected").inner_text()
    cup = page.locator('#board th[data-k="cup"]')
    cup.click()  # highest CuP first
    first = rows.first.locator("td").first.inner_text()
    cup.click()
    assert rows.first.locator("td").first.inner_text() != first
    assert "careful" in first
    text = page.locator("#board").inner_text()
    assert "agentsafe-builtin" in text and "[" in text and "Risk Ratio user_consent ↓" in text
    href = rows.first.locator("a").get_attribute("href")
    assert (built["site"].parent / href).is_file()
    report = open_page(built["site"].parent / href)
    assert "episodes" in report.locator("#count").inner_text()


@pytest.fixture(scope="module")
def viewer_url(built):
    """`agentsafe view` over the test store, on a free port of 127.0.0.1, in a thread."""
    import socket
    import threading
    import time

    import uvicorn

    from agentsafe.viewer.app import make_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(make_app(built["db"]), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not server.started and time.time() < deadline:
        time.sleep(0.05)
    assert server.started
    yield f"http://127.0.0.1:{port}/"
    server.should_exit = True
    thread.join(10)


def test_view_server_lists_runs_and_loads_episodes_lazily(open_page, browser, viewer_url) -> None:
    page = browser.new_page()
    page.goto(viewer_url)
    assert "reckless" in page.inner_text("body") and "shots" in page.inner_text("body")
    page.close()
    page = open_page(viewer_url + "report?run=careful&run=reckless")
    assert page.locator("script[id^=t]").count() == 0  # nothing embedded: fetched on demand
    page.select_option('select[data-f="outcome"]', "violation")
    page.click("#ep-table tbody tr >> nth=0")
    page.locator("#panes details.step.violating .evidence-box").first.wait_for(timeout=10000)
    shots = open_page(viewer_url + "report?run=shots", )
    shots.click("#ep-table tbody tr >> nth=0")
    shots.locator("#panes img.shot").first.wait_for(state="attached", timeout=10000)
    shots.evaluate("document.querySelectorAll('#panes details.step').forEach(d => d.open = true)")
    shots.wait_for_function("Array.from(document.querySelectorAll('#panes img.shot'))"
                            ".some(i => i.complete && i.naturalWidth > 100)", timeout=10000)
