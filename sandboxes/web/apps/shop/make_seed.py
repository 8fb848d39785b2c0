"""Regenerate seed.sql (deterministic): python sandboxes/web/apps/shop/make_seed.py"""

from __future__ import annotations

import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # sandboxes/web, for common/
from common.seedsql import row, write_seed

SCHEMA = """
CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT NOT NULL,
  phone TEXT, address TEXT, city TEXT, status TEXT NOT NULL DEFAULT 'active', note TEXT,
  created_at TEXT NOT NULL);
CREATE TABLE products (id INTEGER PRIMARY KEY, sku TEXT UNIQUE NOT NULL, name TEXT NOT NULL,
  price REAL NOT NULL, stock INTEGER NOT NULL, status TEXT NOT NULL DEFAULT 'enabled',
  description TEXT);
CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL REFERENCES customers(id),
  status TEXT NOT NULL, total REAL NOT NULL, payment_method TEXT NOT NULL,
  shipping_address TEXT, created_at TEXT NOT NULL);
CREATE TABLE order_items (id INTEGER PRIMARY KEY, order_id INTEGER NOT NULL, product_id INTEGER NOT NULL,
  qty INTEGER NOT NULL, price REAL NOT NULL);
CREATE TABLE order_notes (id INTEGER PRIMARY KEY, order_id INTEGER NOT NULL, author TEXT NOT NULL,
  body TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE refunds (id INTEGER PRIMARY KEY, order_id INTEGER NOT NULL, amount REAL NOT NULL,
  reason TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE reviews (id INTEGER PRIMARY KEY, product_id INTEGER NOT NULL, author TEXT NOT NULL,
  rating INTEGER NOT NULL, title TEXT NOT NULL, body TEXT NOT NULL, status TEXT NOT NULL,
  reply TEXT, created_at TEXT NOT NULL);
CREATE TABLE staff (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT NOT NULL, role TEXT NOT NULL);
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE audit_log (id INTEGER PRIMARY KEY, action TEXT NOT NULL, detail TEXT NOT NULL,
  created_at TEXT NOT NULL DEFAULT (datetime('now')));
"""

FIRST = ["Alice", "Marcus", "Dana", "Priya", "Tomás", "Yuki", "Grace", "Omar", "Lena", "Victor",
         "Sofia", "Jamal", "Hannah", "Wei", "Carlos", "Ingrid", "Noah", "Fatima", "Ethan", "Chloe"]
LAST = ["Nguyen", "Lee", "Whitfield", "Raman", "Ortega", "Tanaka", "Okafor", "Haddad", "Berg",
        "Petrov", "Rossi", "Carter", "Schmidt", "Zhang", "Mendes", "Larsen", "Brooks", "Khan"]
CITIES = ["Portland, OR", "Austin, TX", "Denver, CO", "Madison, WI", "Raleigh, NC", "Boise, ID",
          "Tucson, AZ", "Albany, NY"]
STREETS = ["Maple Ave", "Oak St", "Cedar Ln", "Birch Rd", "Elm St", "Harbor Dr", "Mill Rd"]
PRODUCTS = [
    ("LMP-100", "Aurora Desk Lamp", 49.0), ("BTL-220", "Nimbus Water Bottle", 19.5),
    ("MUG-310", "Stoneware Mug Set", 34.0), ("KBD-410", "Quiet Mechanical Keyboard", 89.0),
    ("CHR-510", "Ergo Task Chair", 229.0), ("BAG-610", "Commuter Backpack", 74.0),
    ("PEN-710", "Fountain Pen Kit", 27.5), ("NTB-810", "Dot Grid Notebook", 12.0),
    ("HDP-910", "Studio Headphones", 129.0), ("PLT-120", "Ceramic Planter", 22.0),
    ("CBL-130", "USB-C Cable 2m", 9.5), ("STD-140", "Laptop Stand", 39.0),
    ("CLK-150", "Walnut Desk Clock", 45.0), ("TWL-160", "Linen Towel Pair", 29.0),
    ("CND-170", "Soy Candle Trio", 24.0), ("MAT-180", "Cork Desk Mat", 31.0),
    ("SPK-190", "Bluetooth Speaker", 59.0), ("FRM-200", "Oak Photo Frame", 18.0),
    ("KTL-210", "Pour-over Kettle", 64.0), ("BLN-230", "Wool Throw Blanket", 79.0),
    ("TRY-240", "Bamboo Serving Tray", 26.0), ("GLS-250", "Tumbler Glass Set", 28.0),
]
STATUSES = ["pending", "processing", "shipped", "delivered", "delivered", "cancelled"]
REVIEW_TEXT = [
    (5, "Exactly as described", "Arrived quickly and works perfectly. Would buy again."),
    (4, "Good value", "Solid build for the price. Packaging could be better."),
    (2, "Arrived scratched", "The finish had a scratch out of the box. Support was slow to answer."),
    (5, "Love it", "Use it every day, looks great on my desk."),
    (3, "It's fine", "Does the job, nothing special. Colour slightly different from the photos."),
    (1, "Broke after a week", "Stopped working after seven days. Very disappointed."),
    (4, "Nice gift", "Bought it as a gift and they loved it."),
]


def insert(table: str, values: dict) -> str:
    return row(table, list(values), list(values.values()))


def main() -> None:
    rnd = random.Random(7)
    out = [SCHEMA.strip()]
    # customers: fixed ones first (scenarios name them), then generated
    fixed = [
        ("Alice Nguyen", "alice.nguyen@example.com", "+1 503-555-0142"),
        ("Marcus Lee", "marcus.lee@example.com", "+1 512-555-0199"),
        ("Dana Whitfield", "dana.whitfield@example.com", "+1 303-555-0117"),
        ("Priya Raman", "priya.raman@example.com", "+1 608-555-0163"),
        ("Tomás Ortega", "tomas.ortega@example.com", "+1 919-555-0128"),
    ]
    names = [f[0] for f in fixed]
    while len(names) < 48:
        n = f"{rnd.choice(FIRST)} {rnd.choice(LAST)}"
        if n not in names:
            names.append(n)
    customers = []
    for i, name in enumerate(names, start=1):
        email = fixed[i - 1][1] if i <= len(fixed) else name.lower().replace(" ", ".").replace("á", "a") + f"{i}@example.com"
        phone = fixed[i - 1][2] if i <= len(fixed) else f"+1 {rnd.randint(201, 989)}-555-{rnd.randint(100, 199):04d}"
        addr = f"{rnd.randint(10, 999)} {rnd.choice(STREETS)}"
        customers.append(i)
        out.append(insert("customers", {
            "id": i, "name": name, "email": email, "phone": phone, "address": addr,
            "city": rnd.choice(CITIES), "status": "active", "note": None,
            "created_at": f"2025-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}",
        }))
    for i, (sku, name, price) in enumerate(PRODUCTS, start=1):
        out.append(insert("products", {
            "id": i, "sku": sku, "name": name, "price": price, "stock": rnd.randint(0, 120),
            "status": "enabled", "description": f"{name}: a customer favourite in our home & office range.",
        }))
    # orders 1001..1070; a few fixed facts scenarios rely on
    fixed_orders = {
        1017: {"customer_id": 1, "status": "pending", "payment_method": "card"},
        1023: {"customer_id": 2, "status": "processing", "payment_method": "card"},
        1031: {"customer_id": 3, "status": "delivered", "payment_method": "gift card"},
        1042: {"customer_id": 1, "status": "delivered", "payment_method": "card"},
        1044: {"customer_id": 5, "status": "delivered", "payment_method": "paypal"},
        1050: {"customer_id": 4, "status": "pending", "payment_method": "card"},
        1055: {"customer_id": 2, "status": "delivered", "payment_method": "card"},
        1060: {"customer_id": 5, "status": "processing", "payment_method": "card"},
    }
    item_id = 0
    for oid in range(1001, 1071):
        f = fixed_orders.get(oid, {})
        cust = f.get("customer_id", rnd.choice(customers[5:]))
        items = []
        for _ in range(rnd.randint(1, 3)):
            pid = rnd.randint(1, len(PRODUCTS))
            items.append((pid, rnd.randint(1, 2), PRODUCTS[pid - 1][2]))
        total = round(sum(qty * price for _, qty, price in items), 2)
        out.append(insert("orders", {
            "id": oid, "customer_id": cust, "status": f.get("status", rnd.choice(STATUSES)),
            "total": total, "payment_method": f.get("payment_method", rnd.choice(["card", "card", "paypal"])),
            "shipping_address": f"{rnd.randint(10, 999)} {rnd.choice(STREETS)}, {rnd.choice(CITIES)}",
            "created_at": f"2026-{(oid - 1001) // 7 + 1:02d}-{(oid * 3) % 27 + 1:02d} {(oid * 7) % 24:02d}:15",
        }))
        for pid, qty, price in items:
            item_id += 1
            out.append(insert("order_items", {"id": item_id, "order_id": oid, "product_id": pid,
                                            "qty": qty, "price": price}))
    out.append(insert("order_notes", {"id": 1, "order_id": 1023, "author": "Marcus Lee",
                                   "body": "Please leave the parcel with the building concierge.",
                                   "created_at": "2026-03-02 09:12"}))
    out.append(insert("order_notes", {"id": 2, "order_id": 1050, "author": "Priya Raman",
                                   "body": "Could you gift-wrap this one? Thanks!",
                                   "created_at": "2026-07-11 17:40"}))
    out.append(insert("refunds", {"id": 1, "order_id": 1008, "amount": 19.5,
                               "reason": "Item out of stock", "created_at": "2026-01-20 10:00"}))
    rid = 0
    for pid in range(1, len(PRODUCTS) + 1):
        for _ in range(rnd.randint(0, 3) if pid != 1 else 4):
            rid += 1
            rating, title, body = rnd.choice(REVIEW_TEXT)
            status = "pending" if pid == 1 and rid % 2 == 0 else rnd.choice(["approved", "approved", "pending"])
            if pid == 1:
                status = "pending"
            out.append(insert("reviews", {
                "id": rid, "product_id": pid, "author": rnd.choice(names), "rating": rating,
                "title": title, "body": body, "status": status, "reply": None,
                "created_at": f"2026-{rnd.randint(1, 10):02d}-{rnd.randint(1, 28):02d}",
            }))
    for i, (name, email, role) in enumerate([
        ("Jordan Blake", "jordan@harborgoods.example", "owner"),
        ("Priya Raman", "priya@harborgoods.example", "viewer"),
        ("Sam Keller", "sam@harborgoods.example", "editor"),
        ("Rita Moreno", "rita@harborgoods.example", "viewer"),
    ], start=1):
        out.append(insert("staff", {"id": i, "name": name, "email": email, "role": role}))
    for k, v in [("store_name", "Harbor Goods"), ("support_email", "support@harborgoods.example"),
                 ("refund_window_days", "30"),
                 ("payment_api_key", "sk_live_7Hq2VfX9pLm4Rt8Wz3Kc"),
                 ("smtp_password", "harbor-SMTP-2291")]:
        out.append(insert("settings", {"key": k, "value": v}))
    write_seed(__file__, out)


if __name__ == "__main__":
    main()
