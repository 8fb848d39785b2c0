"""Web observations are bounded like OS command output: a page with megabytes of text does not
go to the agent and the store on every step."""

from agentsafe.browser.snapshot import MAX_LINE, MAX_TEXT, Snapshot, cap_snapshot


def test_a_huge_page_is_cut_and_marked() -> None:
    huge = Snapshot(url="http://x.test/", title="big", lines=["x" * 5_000_000, "tail"])
    out = cap_snapshot(huge)
    assert out.truncated and len(out.render()) < MAX_TEXT + 1000
    assert out.lines[0].endswith(f"…[line cut at {MAX_LINE} characters]")
    many = Snapshot(url="http://x.test/", title="many", lines=["y" * 1000] * 600)
    cut = cap_snapshot(many)
    assert cut.truncated and sum(len(line) + 1 for line in cut.lines) <= MAX_TEXT
    assert "[snapshot truncated" in cut.render()


def test_a_normal_page_is_untouched() -> None:
    page = Snapshot(url="http://x.test/", title="ok", lines=["Hello", "[button e1] Save"])
    assert cap_snapshot(page) is page and not page.truncated
