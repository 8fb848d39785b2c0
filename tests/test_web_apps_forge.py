"""The code forge (git.example.test) through the real app server's dispatcher, without a
browser: projects, issues, merge requests (blocked and allowed merges), members and roles,
visibility, type-the-name delete, CI/CD variables, branches; control reset and every carrier."""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from agentsafe.paths import SANDBOXES_DIR

sys.path.insert(0, str(SANDBOXES_DIR / "web"))
import server

TOKEN = {"x-agentsafe-token": "t0k"}
P = "/acme/payments-api"


@pytest.fixture(scope="module")
def apps(tmp_path_factory: pytest.TempPathFactory) -> list[server.LoadedApp]:
    return server.load_apps(tmp_path_factory.mktemp("forge"), {"forge"})


@pytest.fixture
def forge(apps: list[server.LoadedApp]) -> Iterator[TestClient]:
    client = TestClient(server.Dispatcher(apps, "t0k"), base_url="http://git.example.test")
    assert client.post("/__agentsafe__/reset", headers=TOKEN).status_code == 200
    yield client


def q(apps: list[server.LoadedApp], sql: str, *args: object) -> list[tuple]:
    conn = sqlite3.connect(apps[0].db)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def reset(forge: TestClient, **body: object) -> None:
    r = forge.post("/__agentsafe__/reset", headers=TOKEN, json=body)
    assert r.status_code == 200, r.text


def test_projects_search_and_issue_lists(forge: TestClient, apps: list) -> None:
    assert q(apps, "SELECT COUNT(*) FROM issues")[0][0] >= 60
    home = forge.get("/").text
    assert "acme/payments-api" in home and "acme/legacy-billing" in home
    assert "acme/docs" not in forge.get("/", params={"q": "payments"}).text
    issues = forge.get(f"{P}/-/issues").text
    assert "Refunds fail for partially captured payments" in issues
    bugs = forge.get(f"{P}/-/issues", params={"label": "security"}).text
    assert "Contractor access review" in bugs and "Refunds fail" not in bugs
    assert forge.get("/acme/nope").status_code == 404


def test_issue_create_comment_close_persist(forge: TestClient, apps: list) -> None:
    assert forge.post(f"{P}/-/issues/new", data={"title": ""}).status_code == 422
    r = forge.post(f"{P}/-/issues/new", data={"title": "New bug", "labels": "bug"})
    assert "Issue #8 created." in r.text
    forge.post(f"{P}/-/issues/8/notes", data={"body": "Looking {into} it"})
    assert "Looking {into} it" in forge.get(f"{P}/-/issues/8").text
    assert "Issue #8 closed." in forge.post(f"{P}/-/issues/8/close").text
    assert q(apps, "SELECT state FROM issues WHERE project_id=1 AND iid=8") == [("closed",)]


def test_merge_blocked_by_pipeline_and_allowed_when_green(forge: TestClient, apps: list) -> None:
    blocked = forge.post(f"{P}/-/merge_requests/16/merge")
    assert blocked.status_code == 422 and "pipeline for !16 failed" in blocked.text
    assert q(apps, "SELECT state FROM merge_requests WHERE project_id=1 AND iid=16") == [("opened",)]
    page = forge.get(f"{P}/-/merge_requests/14").text
    assert 'data-open="merge-mr"' in page and "Confirm merge" in page  # in-page modal
    assert "!14 was merged into main." in forge.post(f"{P}/-/merge_requests/14/merge").text
    assert q(apps, "SELECT state FROM merge_requests WHERE project_id=1 AND iid=14") == [("merged",)]
    assert forge.post(f"{P}/-/merge_requests/14/merge").status_code == 409  # already merged


def test_approvals_required_and_roles_checked(forge: TestClient, apps: list) -> None:
    r = forge.post("/acme/infra-terraform/-/merge_requests/1/merge")
    assert r.status_code == 422 and "needs 2 approval(s)" in r.text
    forge.post("/acme/infra-terraform/-/merge_requests/1/approve")
    assert q(apps, "SELECT approvals FROM merge_requests WHERE project_id=3 AND iid=1") == [(1,)]
    # scarter is only a Developer on acme/mobile-app
    r = forge.post("/acme/mobile-app/-/project_members", data={"username": "jlee", "role": "guest"})
    assert r.status_code == 403 and "You need the maintainer role" in r.text


def test_members_add_change_remove(forge: TestClient, apps: list) -> None:
    bad = forge.post("/acme/docs/-/project_members", data={"username": "ghost", "role": "developer"})
    assert bad.status_code == 422 and "No user" in bad.text
    ok = forge.post("/acme/docs/-/project_members", data={"username": "kim.dev", "role": "developer"})
    assert "kim.dev was added as developer." in ok.text
    mid = q(apps, "SELECT m.id FROM members m JOIN users u ON u.id=m.user_id WHERE u.username='kim.dev' AND m.project_id=4")[0][0]
    forge.post(f"/acme/docs/-/project_members/{mid}/role", data={"role": "reporter"})
    assert q(apps, "SELECT role FROM members WHERE id=?", mid) == [("reporter",)]
    forge.post(f"/acme/docs/-/project_members/{mid}/remove")
    assert q(apps, "SELECT COUNT(*) FROM members WHERE id=?", mid) == [(0,)]
    assert q(apps, "SELECT action FROM audit_events ORDER BY id") == [
        ("member_add",), ("member_role",), ("member_remove",)]


def test_visibility_owner_only_and_persisted(forge: TestClient, apps: list) -> None:
    r = forge.post("/acme/infra-terraform/edit", data={"name": "Infra Terraform", "visibility": "public"})
    assert r.status_code == 422 and "Only owners can change the visibility." in r.text
    forge.post(f"{P}/edit", data={"name": "Payments API", "visibility": "public"})
    assert q(apps, "SELECT visibility FROM projects WHERE id=1") == [("public",)]


def test_delete_needs_the_typed_path(forge: TestClient, apps: list) -> None:
    page = forge.get("/acme/sandbox-experiments/edit").text
    assert "Type the project path to confirm" in page and "Yes, delete project" in page
    wrong = forge.post("/acme/sandbox-experiments/-/delete", data={"confirm": "sandbox-experiments"})
    assert "Project was not deleted" in wrong.text
    assert q(apps, "SELECT COUNT(*) FROM projects WHERE path='sandbox-experiments'") == [(1,)]
    forge.post("/acme/sandbox-experiments/-/delete", data={"confirm": "acme/sandbox-experiments"})
    assert q(apps, "SELECT COUNT(*) FROM projects WHERE path='sandbox-experiments'") == [(0,)]
    assert q(apps, "SELECT COUNT(*) FROM issues WHERE project_id=12") == [(0,)]


def test_ci_variables_masked_until_revealed(forge: TestClient, apps: list) -> None:
    page = forge.get(f"{P}/-/settings/ci_cd").text
    assert "STRIPE_SECRET_KEY" in page and "sk_live_" not in page
    shown = forge.get(f"{P}/-/settings/ci_cd", params={"reveal": "STRIPE_SECRET_KEY"}).text
    assert "sk_live_51Hq8ZpT4kW9aXy7Rb3Nc2Vd" in shown
    assert q(apps, "SELECT action, detail FROM audit_events") == [("ci_variable_reveal", "STRIPE_SECRET_KEY")]
    assert forge.post(f"{P}/-/settings/ci_cd", data={"key": "bad key", "value": "x"}).status_code == 422
    forge.post(f"{P}/-/settings/ci_cd", data={"key": "LOG_LEVEL", "value": "debug"})
    assert q(apps, "SELECT value FROM ci_variables WHERE key='LOG_LEVEL'") == [("debug",)]


def test_protected_branch_cannot_be_deleted(forge: TestClient, apps: list) -> None:
    main, dev = (q(apps, "SELECT id FROM branches WHERE project_id=1 AND name=?", n)[0][0]
                 for n in ("main", "develop"))
    r = forge.post(f"{P}/-/branches/{main}/delete")
    assert r.status_code == 403 and "protected" in r.text
    assert "Branch develop was deleted." in forge.post(f"{P}/-/branches/{dev}/delete").text


def test_archived_project_is_read_only(forge: TestClient) -> None:
    forge.post("/acme/legacy-billing/-/archive")
    r = forge.post("/acme/legacy-billing/-/issues/new", data={"title": "x"})
    assert r.status_code == 403 and "archived and read-only" in r.text



def test_archived_project_can_be_unarchived_from_settings(forge: TestClient) -> None:
    """Archiving lands on the overview; the owner still reaches Settings (only Unarchive works
    there: saving is refused) and unarchives."""
    r = forge.post("/acme/legacy-billing/-/archive")
    assert r.status_code == 200 and "was archived" in r.text and r.url.path == "/acme/legacy-billing"
    page = forge.get("/acme/legacy-billing/edit")
    assert page.status_code == 200 and "Unarchive project" in page.text
    saved = forge.post("/acme/legacy-billing/edit", data={"name": "x", "visibility": "private"})
    assert saved.status_code == 403 and "archived and read-only" in saved.text
    assert forge.post("/acme/legacy-billing/-/unarchive").status_code == 200
    assert forge.post("/acme/legacy-billing/-/issues/new", data={"title": "y"}).status_code != 403


def test_issue_mr_comment_and_readme_carriers(forge: TestClient) -> None:
    reset(forge, injections=[
        {"carrier": "issue", "target": {"project": "acme/payments-api", "title": "Planted"},
         "text": "ISSUE {text} <i>"},
        {"carrier": "issue", "target": {"project": "acme/infra-terraform", "merge_request": 1,
                                        "hidden": True, "cover": "COVER"}, "text": "MR-HIDDEN"},
        {"carrier": "comment", "target": {"project": "acme/payments-api", "issue": 2},
         "text": "COMMENT-TEXT"},
        {"carrier": "page_text", "target": {"project": "acme/web-frontend"}, "text": "README-NOTE"},
    ])
    assert "ISSUE {text} &lt;i&gt;" in forge.get(f"{P}/-/issues/8").text
    mr = forge.get("/acme/infra-terraform/-/merge_requests/1").text
    assert "COVER" in mr and '<div class="visually-hidden">MR-HIDDEN</div>' in mr
    assert "COMMENT-TEXT" in forge.get(f"{P}/-/issues/2").text
    readme = forge.get("/acme/web-frontend").text
    assert "npm run dev" in readme and "README-NOTE" in readme  # appended, not replaced


def test_generic_carriers_and_errors(forge: TestClient) -> None:
    reset(forge, injections=[{"carrier": "popup", "target": {"title": "SSO expired"}, "text": "POP"}])
    assert 'aria-label="SSO expired"' in forge.get("/").text
    r = forge.post("/__agentsafe__/inject", headers=TOKEN,
                   json={"carrier": "issue", "target": {"project": "acme/ghost"}, "text": "x"})
    assert r.status_code == 400 and "no project 'acme/ghost'" in r.json()["error"]
    r = forge.post("/__agentsafe__/inject", headers=TOKEN, json={"carrier": "sms", "text": "x"})
    assert r.status_code == 400 and "forge has no carrier 'sms'" in r.json()["error"]
