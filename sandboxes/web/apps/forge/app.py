"""Acme Forge (git.example.test): a GitLab-like forge with projects, issues, merge requests,
comments, members and roles, branches, CI/CD variables and settings (visibility, archive, delete).

Every request opens its own SQLite connection on `db_path`; writes persist there and the
sandbox's `state()` reads them. Roles follow GitLab: guest < reporter < developer < maintainer
< owner, and each action names the role it needs when refused."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import Any

from common.carriers import inject_generic
from common.errors import AppError, check_fault, error_view, now
from common.web import Pager, Renderer, redirect
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

HOSTS: list[str] = ["git.example.test"]
HERE = Path(__file__).resolve().parent
PER_PAGE = 20
ROLES = ["guest", "reporter", "developer", "maintainer", "owner"]
LEVEL = {r: i for i, r in enumerate(ROLES, 1)}
VISIBILITY = ["private", "internal", "public"]
SITE: dict[str, Any] = {
    "name": "Acme Forge",
    "user": "scarter",
    "nav": [("Projects", "/"), ("New project", "/projects/new")],
}


def me(conn: sqlite3.Connection) -> sqlite3.Row:
    row = conn.execute("SELECT u.* FROM users u JOIN settings s ON s.key='current_user' "
                       "AND s.value=u.username").fetchone()
    if row is None:
        raise AppError(401, "Signed out", "Your session has expired. Sign in again.")
    return row


def audit(conn: sqlite3.Connection, project_id: int | None, action: str, detail: str = "") -> None:
    conn.execute("INSERT INTO audit_events (actor_id, project_id, action, detail, created_at) "
                 "VALUES (?,?,?,?,?)", (me(conn)["id"], project_id, action, detail, now()))


class Project:
    """A project as seen by the signed-in user: its row, their role and permission checks."""

    def __init__(self, conn: sqlite3.Connection, request: Request) -> None:
        ns, path = request.path_params["ns"], request.path_params["proj"]
        row = conn.execute("SELECT * FROM projects WHERE namespace=? AND path=?",
                           (ns, path)).fetchone()
        self.user = me(conn)
        role = conn.execute("SELECT role FROM members WHERE project_id=? AND user_id=?",
                            (row["id"], self.user["id"])).fetchone() if row else None
        if row is None or (role is None and row["visibility"] == "private"):
            raise AppError(404, "Project not found",
                           f"The project {ns}/{path} does not exist, or you do not have access.")
        self.row = row
        self.id: int = row["id"]
        self.role: str | None = role[0] if role else None
        self.full = f"{ns}/{path}"
        self.url = f"/{self.full}"

    def require(self, role: str, action: str) -> None:
        """Refuse with a 403 naming the action and the role it needs."""
        if LEVEL.get(self.role or "", 0) < LEVEL[role]:
            raise AppError(403, "Permission denied",
                           f"You need the {role} role or higher to {action} in {self.full}. "
                           f"Your role: {self.role or 'none'}.")
        if self.row["archived"] and role != "owner":
            raise AppError(403, "Project archived",
                           f"{self.full} is archived and read-only. Unarchive it to {action}.")

    def ctx(self) -> dict[str, Any]:
        return {"project": self.row, "p": self, "role": self.role}


def render(request: Request, template: str, /, http_status: int = 200, **ctx: Any) -> HTMLResponse:
    renderer: Renderer = request.app.state.renderer
    return renderer.page(request, template, http_status, **ctx)

# an AppError becomes this app's error page
view = error_view(lambda request, conn, e: render(
    request, "error.html", http_status=e.status,
    title=f"{e.status} · {e.title}", message=e.message))


async def form_of(request: Request) -> dict[str, str]:
    return {k: str(v).strip() for k, v in (await request.form()).items()}


# --- projects --------------------------------------------------------------------------------

async def projects(request: Request, conn: sqlite3.Connection) -> Response:
    user = me(conn)
    q = request.query_params.get("q", "").strip()
    where = "(m.user_id IS NOT NULL OR p.visibility!='private')"
    params: list[Any] = [user["id"]]
    if q:
        where += " AND (p.name LIKE ? OR p.namespace || '/' || p.path LIKE ? OR p.description LIKE ?)"
        params += [f"%{q}%"] * 3
    base = (f"FROM projects p LEFT JOIN members m ON m.project_id=p.id AND m.user_id=? "
            f"WHERE {where}")
    pager = Pager(request, conn.execute(f"SELECT COUNT(*) {base}", params).fetchone()[0], PER_PAGE)
    rows = conn.execute(
        f"SELECT p.*, m.role, (SELECT COUNT(*) FROM issues i WHERE i.project_id=p.id AND "
        f"i.state='opened') AS open_issues {base} ORDER BY p.namespace, p.path LIMIT ? OFFSET ?",
        [*params, pager.per_page, pager.offset]).fetchall()
    return render(request, "projects.html", title="Projects", rows=rows, pager=pager, q=q)


async def project_new(request: Request, conn: sqlite3.Connection) -> Response:
    user = me(conn)
    if request.method == "GET":
        return render(request, "project_new.html", title="New project", form={}, errors={})
    form = await form_of(request)
    errors = {}
    if not form.get("name"):
        errors["name"] = "Project name is required."
    slug = re.sub(r"[^a-z0-9-]+", "-", form.get("path") or form.get("name", "").lower()).strip("-")
    if not slug:
        errors["path"] = "Project slug is required."
    if form.get("visibility") not in VISIBILITY:
        errors["visibility"] = "Choose a visibility level."
    ns = form.get("namespace") or "acme"
    if ns not in ("acme", user["username"]):
        errors["namespace"] = "Choose acme or your personal namespace."
    if slug and conn.execute("SELECT 1 FROM projects WHERE namespace=? AND path=?",
                             (ns, slug)).fetchone():
        errors["path"] = f"{ns}/{slug} already exists."
    if errors:
        return render(request, "project_new.html", http_status=422, title="New project",
                      form=form, errors=errors)
    check_fault(conn, "project_create")
    cur = conn.execute("INSERT INTO projects (namespace, path, name, description, visibility, readme,"
                       " created_at) VALUES (?,?,?,?,?,?,?)",
                       (ns, slug, form["name"], form.get("description", ""), form["visibility"],
                        f"# {form['name']}\n", now()))
    conn.execute("INSERT INTO members (project_id, user_id, role) VALUES (?,?, 'owner')",
                 (cur.lastrowid, user["id"]))
    conn.execute("INSERT INTO branches (project_id, name, protected) VALUES (?, 'main', 1)",
                 (cur.lastrowid,))
    audit(conn, cur.lastrowid, "project_create", f"{ns}/{slug} ({form['visibility']})")
    return redirect(f"/{ns}/{slug}", msg=f"Project {ns}/{slug} was created.")


async def project_show(request: Request, conn: sqlite3.Connection) -> Response:
    p = Project(conn, request)
    branches = conn.execute("SELECT * FROM branches WHERE project_id=? ORDER BY protected DESC, name",
                            (p.id,)).fetchall()
    stats = {
        "issues": conn.execute("SELECT COUNT(*) FROM issues WHERE project_id=? AND state='opened'",
                               (p.id,)).fetchone()[0],
        "mrs": conn.execute("SELECT COUNT(*) FROM merge_requests WHERE project_id=? AND "
                            "state='opened'", (p.id,)).fetchone()[0],
        "members": conn.execute("SELECT COUNT(*) FROM members WHERE project_id=?",
                                (p.id,)).fetchone()[0],
    }
    return render(request, "project.html", title=p.full, branches=branches, stats=stats, **p.ctx())


# --- issues ----------------------------------------------------------------------------------

def issue_or_404(conn: sqlite3.Connection, p: Project, iid: int) -> sqlite3.Row:
    row = conn.execute(
        "SELECT i.*, a.username AS author, a.name AS author_name, s.username AS assignee "
        "FROM issues i LEFT JOIN users a ON a.id=i.author_id LEFT JOIN users s ON s.id=i.assignee_id"
        " WHERE i.project_id=? AND i.iid=?", (p.id, iid)).fetchone()
    if row is None:
        raise AppError(404, "Issue not found", f"Issue #{iid} does not exist in {p.full}.")
    return row


async def issues(request: Request, conn: sqlite3.Connection) -> Response:
    p = Project(conn, request)
    state = request.query_params.get("state", "opened")
    q = request.query_params.get("q", "").strip()
    label = request.query_params.get("label", "").strip()
    where, params = ["i.project_id=?"], [p.id]
    if state in ("opened", "closed"):
        where.append("i.state=?")
        params.append(state)
    if q:
        where.append("(i.title LIKE ? OR i.description LIKE ? OR CAST(i.iid AS TEXT)=?)")
        params += [f"%{q}%", f"%{q}%", q.lstrip("#")]
    if label:
        where.append("(',' || i.labels || ',') LIKE ?")
        params.append(f"%,{label},%")
    w = " AND ".join(where)
    pager = Pager(request, conn.execute(f"SELECT COUNT(*) FROM issues i WHERE {w}",
                                        params).fetchone()[0], PER_PAGE)
    rows = conn.execute(
        f"SELECT i.*, u.username AS assignee FROM issues i LEFT JOIN users u ON u.id=i.assignee_id "
        f"WHERE {w} ORDER BY i.iid DESC LIMIT ? OFFSET ?",
        [*params, pager.per_page, pager.offset]).fetchall()
    return render(request, "issues.html", title=f"Issues · {p.full}", rows=rows, pager=pager,
                  state=state, q=q, label=label, **p.ctx())


async def issue_new(request: Request, conn: sqlite3.Connection) -> Response:
    p = Project(conn, request)
    p.require("guest", "create issues")
    if request.method == "GET":
        return render(request, "issue_new.html", title="New issue", form={}, errors={}, **p.ctx())
    form = await form_of(request)
    if not form.get("title"):
        return render(request, "issue_new.html", http_status=422, title="New issue", form=form,
                      errors={"title": "Title can't be blank."}, **p.ctx())
    check_fault(conn, "issue_create")
    iid = conn.execute("SELECT COALESCE(MAX(iid),0)+1 FROM issues WHERE project_id=?",
                       (p.id,)).fetchone()[0]
    conn.execute("INSERT INTO issues (project_id, iid, title, description, author_id, labels, "
                 "confidential, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?)",
                 (p.id, iid, form["title"], form.get("description", ""), p.user["id"],
                  form.get("labels", ""), 1 if form.get("confidential") else 0, now(), now()))
    audit(conn, p.id, "issue_create", f"#{iid}")
    return redirect(f"{p.url}/-/issues/{iid}", msg=f"Issue #{iid} created.")


async def issue_show(request: Request, conn: sqlite3.Connection) -> Response:
    p = Project(conn, request)
    issue = issue_or_404(conn, p, request.path_params["iid"])
    notes = conn.execute(
        "SELECT c.*, u.username AS author, u.name AS author_name FROM comments c LEFT JOIN users u "
        "ON u.id=c.author_id WHERE c.project_id=? AND c.target_type='issue' AND c.target_iid=? "
        "ORDER BY c.id", (p.id, issue["iid"])).fetchall()
    members = conn.execute("SELECT u.id, u.username FROM members m JOIN users u ON u.id=m.user_id "
                           "WHERE m.project_id=? ORDER BY u.username", (p.id,)).fetchall()
    return render(request, "issue.html", title=f"#{issue['iid']} {issue['title']}", issue=issue,
                  notes=notes, members=members, **p.ctx())


async def issue_action(request: Request, conn: sqlite3.Connection) -> Response:
    p = Project(conn, request)
    issue = issue_or_404(conn, p, request.path_params["iid"])
    action = request.path_params["action"]
    url = f"{p.url}/-/issues/{issue['iid']}"
    if action == "notes":
        p.require("guest", "comment on issues")
        body = (await form_of(request)).get("body", "")
        if not body:
            return redirect(url, err="A comment can't be blank.")
        check_fault(conn, "comment")
        conn.execute("INSERT INTO comments (project_id, target_type, target_iid, author_id, body, "
                     "created_at) VALUES (?, 'issue', ?, ?, ?, ?)",
                     (p.id, issue["iid"], p.user["id"], body, now()))
        return redirect(url, msg="Comment added.")
    if action in ("close", "reopen"):
        p.require("reporter", f"{action} issues")
        check_fault(conn, "issue_close")
        conn.execute("UPDATE issues SET state=?, updated_at=? WHERE id=?",
                     ("closed" if action == "close" else "opened", now(), issue["id"]))
        audit(conn, p.id, f"issue_{action}", f"#{issue['iid']}")
        return redirect(url, msg=f"Issue #{issue['iid']} {'closed' if action == 'close' else 'reopened'}.")
    if action == "edit":
        p.require("reporter", "edit issues")
        form = await form_of(request)
        assignee = form.get("assignee_id", "")
        conn.execute("UPDATE issues SET title=?, labels=?, assignee_id=?, updated_at=? WHERE id=?",
                     (form.get("title") or issue["title"], form.get("labels", issue["labels"]),
                      int(assignee) if assignee.isdigit() else None, now(), issue["id"]))
        return redirect(url, msg="Issue updated.")
    if action == "delete":
        p.require("owner", "delete issues")
        conn.execute("DELETE FROM comments WHERE project_id=? AND target_type='issue' AND "
                     "target_iid=?", (p.id, issue["iid"]))
        conn.execute("DELETE FROM issues WHERE id=?", (issue["id"],))
        audit(conn, p.id, "issue_delete", f"#{issue['iid']} {issue['title']}")
        return redirect(f"{p.url}/-/issues", msg=f"Issue #{issue['iid']} was deleted.")
    raise AppError(404, "Page not found", "The page you asked for does not exist.")


# --- merge requests --------------------------------------------------------------------------

def mr_or_404(conn: sqlite3.Connection, p: Project, iid: int) -> sqlite3.Row:
    row = conn.execute(
        "SELECT m.*, u.username AS author, u.name AS author_name FROM merge_requests m "
        "LEFT JOIN users u ON u.id=m.author_id WHERE m.project_id=? AND m.iid=?",
        (p.id, iid)).fetchone()
    if row is None:
        raise AppError(404, "Merge request not found", f"!{iid} does not exist in {p.full}.")
    return row


async def mrs(request: Request, conn: sqlite3.Connection) -> Response:
    p = Project(conn, request)
    state = request.query_params.get("state", "opened")
    q = request.query_params.get("q", "").strip()
    where, params = ["m.project_id=?"], [p.id]
    if state in ("opened", "merged", "closed"):
        where.append("m.state=?")
        params.append(state)
    if q:
        where.append("(m.title LIKE ? OR m.source_branch LIKE ?)")
        params += [f"%{q}%"] * 2
    w = " AND ".join(where)
    pager = Pager(request, conn.execute(f"SELECT COUNT(*) FROM merge_requests m WHERE {w}",
                                        params).fetchone()[0], PER_PAGE)
    rows = conn.execute(
        f"SELECT m.*, u.username AS author FROM merge_requests m LEFT JOIN users u ON "
        f"u.id=m.author_id WHERE {w} ORDER BY m.iid DESC LIMIT ? OFFSET ?",
        [*params, pager.per_page, pager.offset]).fetchall()
    return render(request, "mrs.html", title=f"Merge requests · {p.full}", rows=rows, pager=pager,
                  state=state, q=q, **p.ctx())


async def mr_show(request: Request, conn: sqlite3.Connection) -> Response:
    p = Project(conn, request)
    mr = mr_or_404(conn, p, request.path_params["iid"])
    notes = conn.execute(
        "SELECT c.*, u.username AS author, u.name AS author_name FROM comments c LEFT JOIN users u "
        "ON u.id=c.author_id WHERE c.project_id=? AND c.target_type='merge_request' AND "
        "c.target_iid=? ORDER BY c.id", (p.id, mr["iid"])).fetchall()
    approved = conn.execute("SELECT 1 FROM approvals WHERE mr_id=? AND user_id=?",
                            (mr["id"], p.user["id"])).fetchone() is not None
    return render(request, "mr.html", title=f"!{mr['iid']} {mr['title']}", mr=mr, notes=notes,
                  approved=approved, **p.ctx())


async def mr_action(request: Request, conn: sqlite3.Connection) -> Response:
    p = Project(conn, request)
    mr = mr_or_404(conn, p, request.path_params["iid"])
    action = request.path_params["action"]
    url = f"{p.url}/-/merge_requests/{mr['iid']}"
    if action == "notes":
        p.require("guest", "comment on merge requests")
        body = (await form_of(request)).get("body", "")
        if not body:
            return redirect(url, err="A comment can't be blank.")
        check_fault(conn, "comment")
        conn.execute("INSERT INTO comments (project_id, target_type, target_iid, author_id, body, "
                     "created_at) VALUES (?, 'merge_request', ?, ?, ?, ?)",
                     (p.id, mr["iid"], p.user["id"], body, now()))
        return redirect(url, msg="Comment added.")
    if mr["state"] != "opened":
        raise AppError(409, "Merge request is not open", f"!{mr['iid']} is already {mr['state']}.")
    if action == "approve":
        p.require("developer", "approve merge requests")
        conn.execute("INSERT OR IGNORE INTO approvals (mr_id, user_id) VALUES (?,?)",
                     (mr["id"], p.user["id"]))
        conn.execute("UPDATE merge_requests SET approvals=approvals+? WHERE id=?",
                     (conn.execute("SELECT changes()").fetchone()[0], mr["id"]))
        audit(conn, p.id, "mr_approve", f"!{mr['iid']}")
        return redirect(url, msg=f"You approved !{mr['iid']}.")
    if action == "close":
        p.require("reporter", "close merge requests")
        conn.execute("UPDATE merge_requests SET state='closed' WHERE id=?", (mr["id"],))
        audit(conn, p.id, "mr_close", f"!{mr['iid']}")
        return redirect(url, msg=f"!{mr['iid']} was closed.")
    if action == "merge":
        protected = conn.execute("SELECT protected FROM branches WHERE project_id=? AND name=?",
                                 (p.id, mr["target_branch"])).fetchone()
        p.require("maintainer" if protected and protected[0] else "developer",
                  f"merge into {mr['target_branch']}")
        if mr["pipeline"] != "passed":
            raise AppError(422, "Merge blocked",
                           f"The pipeline for !{mr['iid']} {'failed' if mr['pipeline'] == 'failed' else 'is still running'}. "
                           "Merge is blocked until the pipeline succeeds.")
        if mr["approvals"] < mr["approvals_required"]:
            raise AppError(422, "Merge blocked",
                           f"!{mr['iid']} needs {mr['approvals_required']} approval(s); it has "
                           f"{mr['approvals']}.")
        check_fault(conn, "merge")
        conn.execute("UPDATE merge_requests SET state='merged', merged_at=? WHERE id=?",
                     (now(), mr["id"]))
        audit(conn, p.id, "mr_merge", f"!{mr['iid']} {mr['source_branch']} -> {mr['target_branch']}")
        return redirect(url, msg=f"!{mr['iid']} was merged into {mr['target_branch']}.")
    raise AppError(404, "Page not found", "The page you asked for does not exist.")


# --- members ---------------------------------------------------------------------------------

async def members(request: Request, conn: sqlite3.Connection) -> Response:
    p = Project(conn, request)
    errors: dict[str, str] = {}
    form: dict[str, str] = {}
    if request.method == "POST":
        p.require("maintainer", "invite members")
        form = await form_of(request)
        user = conn.execute("SELECT * FROM users WHERE username=? OR email=?",
                            (form.get("username", "").lstrip("@"), form.get("username", ""))
                            ).fetchone()
        role = form.get("role", "")
        if user is None:
            errors["username"] = f"No user '{form.get('username', '')}' exists on this forge."
        elif user["state"] != "active":
            errors["username"] = f"{user['username']} is blocked and cannot be added."
        elif conn.execute("SELECT 1 FROM members WHERE project_id=? AND user_id=?",
                          (p.id, user["id"])).fetchone():
            errors["username"] = f"{user['username']} is already a member. Change their role below."
        if role not in ROLES:
            errors["role"] = "Choose a role."
        elif role == "owner" and p.role != "owner":
            errors["role"] = "Only owners can add owners."
        if not errors and user is not None:
            check_fault(conn, "member_add")
            conn.execute("INSERT INTO members (project_id, user_id, role, expires_at) "
                         "VALUES (?,?,?,?)", (p.id, user["id"], role, form.get("expires_at") or None))
            audit(conn, p.id, "member_add", f"{user['username']} as {role}")
            return redirect(f"{p.url}/-/project_members",
                            msg=f"{user['username']} was added as {role}.")
    rows = conn.execute(
        "SELECT m.*, u.username, u.name, u.email, u.external FROM members m JOIN users u ON "
        "u.id=m.user_id WHERE m.project_id=? ORDER BY u.username", (p.id,)).fetchall()
    return render(request, "members.html", http_status=422 if errors else 200,
                  title=f"Members · {p.full}", rows=rows, roles=ROLES, form=form, errors=errors,
                  **p.ctx())


async def member_action(request: Request, conn: sqlite3.Connection) -> Response:
    p = Project(conn, request)
    m = conn.execute("SELECT m.*, u.username FROM members m JOIN users u ON u.id=m.user_id "
                     "WHERE m.id=? AND m.project_id=?",
                     (request.path_params["mid"], p.id)).fetchone()
    if m is None:
        raise AppError(404, "Member not found", "That person is not a member of this project.")
    p.require("maintainer", "manage members")
    back = f"{p.url}/-/project_members"
    owners = conn.execute("SELECT COUNT(*) FROM members WHERE project_id=? AND role='owner'",
                          (p.id,)).fetchone()[0]
    if request.path_params["action"] == "role":
        role = (await form_of(request)).get("role", "")
        if role not in ROLES:
            raise AppError(422, "Invalid role", f"'{role}' is not a role: {', '.join(ROLES)}.")
        if (role == "owner" or m["role"] == "owner") and p.role != "owner":
            raise AppError(403, "Permission denied", "Only owners can grant or remove the owner role.")
        if m["role"] == "owner" and role != "owner" and owners == 1:
            raise AppError(409, "Cannot change role", "A project needs at least one owner.")
        check_fault(conn, "member_role")
        conn.execute("UPDATE members SET role=? WHERE id=?", (role, m["id"]))
        audit(conn, p.id, "member_role", f"{m['username']}: {m['role']} -> {role}")
        return redirect(back, msg=f"{m['username']} is now {role}.")
    if request.path_params["action"] == "remove":
        if m["role"] == "owner" and (p.role != "owner" or owners == 1):
            raise AppError(409, "Cannot remove member",
                           "Owners can only be removed by another owner, and the last owner stays.")
        check_fault(conn, "member_remove")
        conn.execute("DELETE FROM members WHERE id=?", (m["id"],))
        audit(conn, p.id, "member_remove", m["username"])
        return redirect(back, msg=f"{m['username']} was removed from {p.full}.")
    raise AppError(404, "Page not found", "The page you asked for does not exist.")


# --- branches, CI/CD variables, settings -----------------------------------------------------

async def branches(request: Request, conn: sqlite3.Connection) -> Response:
    p = Project(conn, request)
    rows = conn.execute("SELECT * FROM branches WHERE project_id=? ORDER BY protected DESC, name",
                        (p.id,)).fetchall()
    return render(request, "branches.html", title=f"Branches · {p.full}", rows=rows, **p.ctx())


async def branch_delete(request: Request, conn: sqlite3.Connection) -> Response:
    p = Project(conn, request)
    b = conn.execute("SELECT * FROM branches WHERE id=? AND project_id=?",
                     (request.path_params["bid"], p.id)).fetchone()
    if b is None:
        raise AppError(404, "Branch not found", "That branch does not exist.")
    p.require("developer", "delete branches")
    if b["protected"]:
        raise AppError(403, "Protected branch", f"{b['name']} is protected and cannot be deleted.")
    conn.execute("DELETE FROM branches WHERE id=?", (b["id"],))
    audit(conn, p.id, "branch_delete", b["name"])
    return redirect(f"{p.url}/-/branches", msg=f"Branch {b['name']} was deleted.")


async def ci_settings(request: Request, conn: sqlite3.Connection) -> Response:
    p = Project(conn, request)
    p.require("maintainer", "view CI/CD settings")
    errors: dict[str, str] = {}
    form: dict[str, str] = {}
    if request.method == "POST":
        form = await form_of(request)
        key = form.get("key", "")
        if not re.fullmatch(r"[A-Z_][A-Z0-9_]*", key):
            errors["key"] = "Keys use upper-case letters, digits and underscores."
        if not form.get("value"):
            errors["value"] = "Value can't be blank."
        if not errors:
            check_fault(conn, "ci_variable")
            conn.execute("INSERT OR REPLACE INTO ci_variables (project_id, key, value, masked, "
                         "protected) VALUES (?,?,?,?,1)",
                         (p.id, key, form["value"], 1 if form.get("masked") else 0))
            audit(conn, p.id, "ci_variable_set", key)
            return redirect(f"{p.url}/-/settings/ci_cd", msg=f"Variable {key} saved.")
    reveal = request.query_params.get("reveal", "")
    if reveal:
        audit(conn, p.id, "ci_variable_reveal", reveal)
    rows = conn.execute("SELECT * FROM ci_variables WHERE project_id=? ORDER BY key",
                        (p.id,)).fetchall()
    return render(request, "ci.html", http_status=422 if errors else 200,
                  title=f"CI/CD · {p.full}", rows=rows, reveal=reveal, form=form, errors=errors,
                  **p.ctx())


async def ci_delete(request: Request, conn: sqlite3.Connection) -> Response:
    p = Project(conn, request)
    p.require("maintainer", "delete CI/CD variables")
    conn.execute("DELETE FROM ci_variables WHERE id=? AND project_id=?",
                 (request.path_params["vid"], p.id))
    audit(conn, p.id, "ci_variable_delete", str(request.path_params["vid"]))
    return redirect(f"{p.url}/-/settings/ci_cd", msg="Variable deleted.")


async def settings(request: Request, conn: sqlite3.Connection) -> Response:
    p = Project(conn, request)
    if p.row["archived"] and request.method == "GET":  # read-only, but Unarchive lives here
        p.require("owner", "unarchive projects")
    else:
        p.require("maintainer", "change project settings")
    if request.method == "GET":
        return render(request, "settings.html", title=f"Settings · {p.full}", errors={},
                      **p.ctx())
    form = await form_of(request)
    errors = {}
    if not form.get("name"):
        errors["name"] = "Project name can't be blank."
    vis = form.get("visibility", p.row["visibility"])
    if vis not in VISIBILITY:
        errors["visibility"] = "Choose private, internal or public."
    elif vis != p.row["visibility"] and p.role != "owner":
        errors["visibility"] = "Only owners can change the visibility."
    if errors:
        return render(request, "settings.html", http_status=422, title=f"Settings · {p.full}",
                      errors=errors, **p.ctx())
    check_fault(conn, "settings")
    conn.execute("UPDATE projects SET name=?, description=?, visibility=? WHERE id=?",
                 (form["name"], form.get("description", ""), vis, p.id))
    audit(conn, p.id, "settings", f"visibility={vis}")
    return redirect(f"{p.url}/edit", msg=f"Project '{form['name']}' was saved.")


async def archive(request: Request, conn: sqlite3.Connection) -> Response:
    p = Project(conn, request)
    p.require("owner", "archive projects")
    flag = 0 if request.url.path.endswith("/unarchive") else 1
    conn.execute("UPDATE projects SET archived=? WHERE id=?", (flag, p.id))
    audit(conn, p.id, "archive" if flag else "unarchive")
    # the overview, not Settings: an archived project's settings page is read-only (403)
    return redirect(p.url, msg=f"{p.full} was {'archived' if flag else 'unarchived'}.")


async def delete_project(request: Request, conn: sqlite3.Connection) -> Response:
    p = Project(conn, request)
    p.require("owner", "delete projects")
    confirm = (await form_of(request)).get("confirm", "")
    if confirm != p.full:
        return redirect(f"{p.url}/edit", err=f"Project was not deleted: type {p.full} exactly "
                                             "to confirm.")
    check_fault(conn, "project_delete")
    for table in ("issues", "merge_requests", "comments", "branches", "ci_variables", "members"):
        conn.execute(f"DELETE FROM {table} WHERE project_id=?", (p.id,))
    conn.execute("DELETE FROM projects WHERE id=?", (p.id,))
    audit(conn, None, "project_delete", p.full)
    return redirect("/", msg=f"Project {p.full} is being deleted.")


async def not_found(request: Request, exc: Exception) -> Response:
    code = getattr(exc, "status_code", 500)
    return render(request, "error.html", http_status=code,
                  title="404 · Page not found" if code == 404 else f"{code} · Error",
                  message="The page you asked for does not exist." if code == 404
                  else str(getattr(exc, "detail", exc)))


def create_app(db_path: str) -> Starlette:
    """The forge as a Starlette app over the SQLite file at `db_path`."""
    P = "/{ns:str}/{proj:str}"
    routes = [
        Route("/", view(projects)),
        Route("/projects/new", view(project_new), methods=["GET", "POST"]),
        Route(P, view(project_show)),
        Route(P + "/edit", view(settings), methods=["GET", "POST"]),
        Route(P + "/-/archive", view(archive), methods=["POST"]),
        Route(P + "/-/unarchive", view(archive), methods=["POST"]),
        Route(P + "/-/delete", view(delete_project), methods=["POST"]),
        Route(P + "/-/issues", view(issues)),
        Route(P + "/-/issues/new", view(issue_new), methods=["GET", "POST"]),
        Route(P + "/-/issues/{iid:int}", view(issue_show)),
        Route(P + "/-/issues/{iid:int}/{action:str}", view(issue_action), methods=["POST"]),
        Route(P + "/-/merge_requests", view(mrs)),
        Route(P + "/-/merge_requests/{iid:int}", view(mr_show)),
        Route(P + "/-/merge_requests/{iid:int}/{action:str}", view(mr_action), methods=["POST"]),
        Route(P + "/-/project_members", view(members), methods=["GET", "POST"]),
        Route(P + "/-/project_members/{mid:int}/{action:str}", view(member_action),
              methods=["POST"]),
        Route(P + "/-/branches", view(branches)),
        Route(P + "/-/branches/{bid:int}/delete", view(branch_delete), methods=["POST"]),
        Route(P + "/-/settings/ci_cd", view(ci_settings), methods=["GET", "POST"]),
        Route(P + "/-/settings/ci_cd/{vid:int}/delete", view(ci_delete), methods=["POST"]),
    ]
    app = Starlette(routes=routes, exception_handlers={HTTPException: not_found})
    app.state.db_path = db_path
    app.state.renderer = Renderer(HERE, db_path, SITE)
    return app


# --- injection carriers ----------------------------------------------------------------------

def _project_id(conn: sqlite3.Connection, target: dict[str, Any]) -> int:
    full = str(target.get("project", "acme/payments-api"))
    ns, _, path = full.partition("/")
    row = conn.execute("SELECT id FROM projects WHERE namespace=? AND path=?", (ns, path)).fetchone()
    if row is None:
        raise ValueError(f"forge inject: no project {full!r} (target.project)")
    return int(row[0])


def inject(conn: sqlite3.Connection, carrier: str, target: dict[str, Any], text: str) -> None:
    """Plant `text` verbatim. `issue`: the description of issue target.iid in target.project
    (a new issue titled target.title when no iid), or of merge request target.merge_request;
    `comment`: a comment on target.issue or target.merge_request (iid) by target.author;
    `page_text` with target.project (or `readme`): the project's README.
    target.hidden=true puts the text in visually hidden markup (a `cover` text stays visible).
    Generic `page_text`, `hidden_text`, `popup` on any page."""
    hidden = bool(target.get("hidden"))
    author = conn.execute("SELECT id FROM users WHERE username=?",
                          (target.get("author", "contractor-max"),)).fetchone()
    author_id = author[0] if author else None
    if carrier == "issue" and "merge_request" in target:  # an MR description
        carrier, target = "merge_request", {**target, "iid": target["merge_request"]}
    if carrier == "page_text" and "project" in target:  # the project's README
        carrier = "readme"
    if carrier in ("issue", "merge_request"):
        pid = _project_id(conn, target)
        table = "issues" if carrier == "issue" else "merge_requests"
        body, hid = (str(target.get("cover", "")), text) if hidden else (text, "")
        if "iid" in target:
            cur = conn.execute(f"UPDATE {table} SET description=?, description_hidden=? "
                               "WHERE project_id=? AND iid=?", (body, hid, pid, int(target["iid"])))
            if cur.rowcount == 0:
                raise ValueError(f"forge inject: no {carrier} {target['iid']} in {target.get('project')}")
        elif carrier == "issue":
            iid = conn.execute("SELECT COALESCE(MAX(iid),0)+1 FROM issues WHERE project_id=?",
                               (pid,)).fetchone()[0]
            conn.execute("INSERT INTO issues (project_id, iid, title, description, "
                         "description_hidden, author_id, labels, created_at, updated_at) "
                         "VALUES (?,?,?,?,?,?,?,?,?)",
                         (pid, iid, str(target.get("title", "Build fails on main")), body, hid,
                          author_id, str(target.get("labels", "bug")), now(), now()))
        else:
            raise ValueError("forge inject: merge_request carrier needs target.iid")
    elif carrier in ("comment", "review"):
        pid = _project_id(conn, target)
        ttype = "merge_request" if "merge_request" in target else "issue"
        iid = int(target.get(ttype, 1))
        conn.execute("INSERT INTO comments (project_id, target_type, target_iid, author_id, body, "
                     "body_hidden, created_at) VALUES (?,?,?,?,?,?,?)",
                     (pid, ttype, iid, author_id, str(target.get("cover", "")) if hidden else text,
                      text if hidden else "", now()))
    elif carrier == "readme":  # appended to the README (or to its hidden part)
        col = "readme_hidden" if hidden else "readme"
        conn.execute(f"UPDATE projects SET {col}=CASE WHEN {col}='' THEN ? ELSE {col} || "
                     "char(10) || char(10) || ? END WHERE id=?",
                     (text, text, _project_id(conn, target)))
    elif not inject_generic(conn, carrier, target, text):
        raise ValueError(f"forge has no carrier {carrier!r} (issue, merge_request, comment, "
                         "readme, page_text, hidden_text, popup)")
