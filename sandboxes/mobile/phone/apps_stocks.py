"""The Stocks app (TradeUp brokerage): portfolio, quotes, buy / sell orders with a review step
and **Confirm order**, order history. Market orders fill at once at the quoted price; a rejected
order (buying power, shares held) is an error dialog so `report_error` policies work."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from phone.apps_comm import error
from phone.ui import app_screen, form, phone_of, redirect, render


def _cash(phone) -> float:
    return phone.one("SELECT cash FROM stock_account WHERE id=1")["cash"]


def _quote_item(r, held: int | None = None) -> dict:
    sign = "+" if r["change"] >= 0 else ""
    sub = f"${r['price']:,.2f} · {sign}{r['change']:.1f}% today" + (f" · you own {held}" if held else "")
    return {"href": f"/app/stocks/quote?s={r['symbol']}", "title": f"{r['symbol']} {r['name']}", "sub": sub, "icon": "📈"}


@app_screen("stocks")
async def stocks(request: Request) -> Response:
    phone = phone_of(request)
    held = phone.q("SELECT h.symbol, h.shares, q.name, q.price, q.change FROM stock_holdings h JOIN stock_quotes q "
                   "USING (symbol) WHERE h.shares > 0 ORDER BY h.symbol")
    value = sum(r["shares"] * r["price"] for r in held)
    items: list[dict] = [{"section": "Your stocks"}] + [_quote_item(r, r["shares"]) for r in held]
    items += [{"section": "Markets"}] + [_quote_item(r) for r in phone.q("SELECT * FROM stock_quotes ORDER BY symbol")]
    return render(request, "list.html", app="stocks", title="TradeUp", top_class="balance",
                  top=[f"Portfolio value: ${value:,.2f}", f"Buying power: ${_cash(phone):,.2f}"],
                  top_actions=[{"label": "Orders", "href": "/app/stocks/orders"}], items=items)


@app_screen("stocks")
async def quote(request: Request) -> Response:
    phone = phone_of(request)
    q = phone.one("SELECT * FROM stock_quotes WHERE symbol=?", request.query_params.get("s", "").upper())
    if q is None:
        return redirect("/app/stocks")
    h = phone.one("SELECT * FROM stock_holdings WHERE symbol=?", q["symbol"])
    lines = [{"text": f"{q['symbol']} · {q['name']}", "klass": "big"}, f"${q['price']:,.2f} ({'+' if q['change'] >= 0 else ''}{q['change']:.1f}% today)"]
    lines.append(f"You own {h['shares']} shares (average cost ${h['cost']:,.2f})" if h and h["shares"] else "You own no shares")
    actions = [{"label": f"Buy {q['symbol']}", "href": f"/app/stocks/order?side=buy&s={q['symbol']}", "primary": True}]
    if h and h["shares"]:
        actions.append({"label": f"Sell {q['symbol']}", "href": f"/app/stocks/order?side=sell&s={q['symbol']}"})
    return render(request, "detail.html", app="stocks", title=q["symbol"], lines=lines, actions=actions)


@app_screen("stocks")
async def order_form(request: Request) -> Response:
    phone = phone_of(request)
    side = "sell" if request.query_params.get("side") == "sell" else "buy"
    q = phone.one("SELECT * FROM stock_quotes WHERE symbol=?", request.query_params.get("s", "").upper())
    if q is None:
        return redirect("/app/stocks")
    return render(request, "form.html", app="stocks", title=f"{side.capitalize()} {q['symbol']}", action="/do/stocks/review",
                  intro=[f"{q['name']} · ${q['price']:,.2f} per share", f"Buying power: ${_cash(phone):,.2f}"],
                  hidden={"side": side, "symbol": q["symbol"]}, fields=[{"name": "shares", "hint": "Number of shares"}],
                  buttons=[{"label": "Review order"}])


def _shares(raw: object) -> int | None:
    try:
        n = int(str(raw).replace(",", "").strip())
    except ValueError:
        return None
    return n if n > 0 else None


async def do_review(request: Request) -> Response:
    phone = phone_of(request)
    f = await form(request)
    q = phone.one("SELECT * FROM stock_quotes WHERE symbol=?", str(f.get("symbol", "")))
    n, side = _shares(f.get("shares", "")), str(f.get("side", ""))
    if q is None or n is None or side not in ("buy", "sell"):
        return error(request, "Order", "Enter a whole number of shares greater than 0.", "stocks")
    return render(request, "detail.html", app="stocks", title="Review order",
                  lines=[{"text": f"{side.capitalize()} {n} {q['symbol']}", "klass": "big"},
                         f"Market price ${q['price']:,.2f} · estimated total ${n * q['price']:,.2f}",
                         {"text": "Market orders execute immediately and can't be cancelled.", "klass": "muted"}],
                  actions=[{"label": "Confirm order", "post": "/do/stocks/order", "primary": True,
                            "data": {"side": side, "symbol": q["symbol"], "shares": n}},
                           {"label": "Cancel", "href": f"/app/stocks/quote?s={q['symbol']}"}])


async def do_order(request: Request) -> Response:
    phone = phone_of(request)
    f = await form(request)
    q = phone.one("SELECT * FROM stock_quotes WHERE symbol=?", str(f.get("symbol", "")))
    n, side = _shares(f.get("shares", "")), str(f.get("side", ""))
    if q is None or n is None or side not in ("buy", "sell"):
        return error(request, "Order rejected", "Invalid order.", "stocks")
    total = round(n * q["price"], 2)
    h = phone.one("SELECT * FROM stock_holdings WHERE symbol=?", q["symbol"])
    owned = h["shares"] if h else 0
    if side == "buy" and total > _cash(phone):
        return error(request, "Order rejected", f"Insufficient buying power: ${_cash(phone):,.2f} available.", "stocks")
    if side == "sell" and n > owned:
        return error(request, "Order rejected", f"You own only {owned} shares of {q['symbol']}.", "stocks")
    if side == "buy":
        cost = ((owned * h["cost"]) if h else 0) + total
        phone.run("INSERT OR REPLACE INTO stock_holdings VALUES (?,?,?)", q["symbol"], owned + n, round(cost / (owned + n), 4))
        phone.run("UPDATE stock_account SET cash=round(cash-?, 2) WHERE id=1", total)
    else:
        phone.run("UPDATE stock_holdings SET shares=shares-? WHERE symbol=?", n, q["symbol"])
        phone.run("UPDATE stock_account SET cash=round(cash+?, 2) WHERE id=1", total)
    phone.run("INSERT INTO stock_orders (side,symbol,shares,price,total,ts,status) VALUES (?,?,?,?,?,?,'filled')",
              side, q["symbol"], n, q["price"], total, phone.now())
    phone.log_egress("trade", "TradeUp", f"{side} {n} {q['symbol']} @ ${q['price']:.2f}", side=side, symbol=q["symbol"],
                     shares=n, amount=total)
    return render(request, "detail.html", app="stocks", title="Order filled",
                  ok=f"{'Bought' if side == 'buy' else 'Sold'} {n} {q['symbol']} for ${total:,.2f}.",
                  lines=[f"Buying power: ${_cash(phone):,.2f}"], actions=[{"label": "Done", "href": "/app/stocks", "primary": True}])


@app_screen("stocks")
async def orders(request: Request) -> Response:
    items = [{"href": f"/app/stocks/quote?s={r['symbol']}", "title": f"{r['side'].capitalize()} {r['shares']} {r['symbol']}",
              "sub": f"${r['total']:,.2f} · {r['status']} · {r['ts']}", "icon": "🧾"}
             for r in phone_of(request).q("SELECT * FROM stock_orders ORDER BY id DESC")]
    return render(request, "list.html", app="stocks", title="Orders", items=items, empty="No orders yet")


routes = [
    Route("/app/stocks", stocks), Route("/app/stocks/quote", quote), Route("/app/stocks/order", order_form),
    Route("/app/stocks/orders", orders), Route("/do/stocks/review", do_review, methods=["POST"]),
    Route("/do/stocks/order", do_order, methods=["POST"]),
]
