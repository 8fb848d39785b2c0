"""Utility apps: Clock (alarms: add, switch on/off, delete one or all) and Calculator (an
expression field, `=`, and a history that checks can read)."""

from __future__ import annotations

import ast
import operator
import re

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from phone.apps_comm import error
from phone.ui import app_screen, form, phone_of, redirect, render


# Clock -----------------------------------------------------------------------------------------
def _alarm_label(r) -> str:
    return f"{r['time']} {r['label']}".strip() + (f" · {r['repeat']}" if r["repeat"] else "")


@app_screen("clock")
async def clock(request: Request) -> Response:
    rows = phone_of(request).q("SELECT * FROM alarms ORDER BY time, id")
    actions = [{"label": "Add alarm", "href": "/app/clock/new", "primary": True}]
    actions += [{"label": f"Delete {r['time']} {r['label']}".strip(), "post": "/do/clock/delete", "data": {"id": r["id"]},
                 "danger": True} for r in rows]
    if rows:
        actions.append({"label": "Delete all alarms", "post": "/do/clock/delete_all", "danger": True})
    return render(request, "settings_page.html", app="clock", title="Alarms",
                  notes=[] if rows else ["No alarms"],
                  switches=[{"key": r["id"], "label": _alarm_label(r), "on": bool(r["enabled"]), "action": "/do/clock/toggle"}
                            for r in rows], actions=actions)


@app_screen("clock")
async def clock_new(request: Request) -> Response:
    return render(request, "form.html", app="clock", title="New alarm", action="/do/clock/add",
                  fields=[{"name": "time", "hint": "Time (HH:MM)"}, {"name": "label", "hint": "Label"},
                          {"name": "repeat", "hint": "Repeat (e.g. Every day, Mon–Fri; empty: once)"}],
                  buttons=[{"label": "Save alarm"}])


async def do_clock_add(request: Request) -> Response:
    phone = phone_of(request)
    f = await form(request)
    m = re.fullmatch(r"(\d{1,2})[:.](\d{2})", str(f.get("time", "")).strip())
    if not m or int(m[1]) > 23 or int(m[2]) > 59:
        return error(request, "Alarm not saved", "Enter a time like 06:30 (24-hour clock).", "clock")
    phone.run("INSERT INTO alarms (time,label,enabled,repeat) VALUES (?,?,1,?)", f"{int(m[1]):02d}:{m[2]}",
              str(f.get("label", "")).strip(), str(f.get("repeat", "")).strip())
    return redirect("/app/clock")


async def do_clock_toggle(request: Request) -> Response:
    phone_of(request).run("UPDATE alarms SET enabled=1-enabled WHERE id=?", (await form(request)).get("key", "0"))
    return redirect("/app/clock")


async def do_clock_delete(request: Request) -> Response:
    phone_of(request).run("DELETE FROM alarms WHERE id=?", (await form(request)).get("id", "0"))
    return redirect("/app/clock")


async def do_clock_delete_all(request: Request) -> Response:
    phone_of(request).run("DELETE FROM alarms")
    return redirect("/app/clock")


# Calculator --------------------------------------------------------------------------------------
_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
        ast.Pow: operator.pow, ast.Mod: operator.mod}


def evaluate(expr: str) -> float:
    """+ - × ÷ ^ % and parentheses over decimal numbers; anything else is a ValueError."""
    text = expr.replace("×", "*").replace("x", "*").replace("÷", "/").replace("^", "**").replace(",", "").replace("$", "")
    if not re.fullmatch(r"[\d.+\-*/%() ]+", text) or len(text) > 200:
        raise ValueError("only numbers and + - × ÷ ^ % ( )")

    def ev(n: ast.AST) -> float:
        if isinstance(n, ast.Expression):
            return ev(n.body)
        if isinstance(n, ast.Constant) and isinstance(n.value, (int, float)):
            return float(n.value)
        if isinstance(n, ast.UnaryOp) and isinstance(n.op, (ast.USub, ast.UAdd)):
            return -ev(n.operand) if isinstance(n.op, ast.USub) else ev(n.operand)
        if isinstance(n, ast.BinOp) and type(n.op) in _OPS:
            left, right = ev(n.left), ev(n.right)
            if isinstance(n.op, ast.Pow) and abs(right) > 64:
                raise ValueError("exponent too large")
            return _OPS[type(n.op)](left, right)
        raise ValueError("not an arithmetic expression")

    try:
        return ev(ast.parse(text, mode="eval"))
    except (SyntaxError, ZeroDivisionError, OverflowError) as e:
        raise ValueError(str(e) or "not an arithmetic expression") from None


def fmt(v: float) -> str:
    return f"{round(v, 10):,.10f}".rstrip("0").rstrip(".")


@app_screen("calculator")
async def calculator(request: Request) -> Response:
    phone = phone_of(request)
    last = phone.one("SELECT * FROM calc_history ORDER BY id DESC LIMIT 1")
    hist = [f"{r['expr']} = {r['result']}" for r in phone.q("SELECT * FROM calc_history ORDER BY id DESC LIMIT 6")]
    return render(request, "form.html", app="calculator", title="Calculator", action="/do/calculator/eval",
                  intro=[last["result"] if last else "0"], fields=[{"name": "expr", "hint": "Expression, e.g. 2400 × 0.67"}],
                  buttons=[{"label": "=", "desc": "Equals"}], outro=(["History:"] + hist) if hist else [])


async def do_calc(request: Request) -> Response:
    phone = phone_of(request)
    expr = str((await form(request)).get("expr", "")).strip()
    try:
        result = fmt(evaluate(expr))
    except ValueError as e:
        return error(request, "Can't calculate", f"“{expr}”: {e}.", "calculator")
    phone.run("INSERT INTO calc_history (expr,result,ts) VALUES (?,?,?)", expr, result, phone.now())
    return redirect("/app/calculator")


routes = [
    Route("/app/clock", clock), Route("/app/clock/new", clock_new),
    Route("/do/clock/add", do_clock_add, methods=["POST"]), Route("/do/clock/toggle", do_clock_toggle, methods=["POST"]),
    Route("/do/clock/delete", do_clock_delete, methods=["POST"]),
    Route("/do/clock/delete_all", do_clock_delete_all, methods=["POST"]),
    Route("/app/calculator", calculator), Route("/do/calculator/eval", do_calc, methods=["POST"]),
]
