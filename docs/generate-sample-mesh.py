#!/usr/bin/env python3
"""Regenerates the data files of sample-mesh/ (deterministic: the same files on every run).

Usage:  python3 docs/generate-sample-mesh.py [sample-mesh]      (needs `pip install duckdb`)

Only data files are written; the ODPS/ODCS manifests are hand-written and live next to them.
The deliberate problems the workshop exercises rely on are planted here:
  - sales/order-lines: 23 lines with a negative quantity (a failing quality rule)
  - marketing/web-sessions: an `ip_address` column the contract does not classify (undeclared PII)
  - logistics/carrier-rates: a truncated Parquet file (a product that cannot load)
  - customers/consents: 4 duplicated consent records (a warning-severity rule)
"""
from __future__ import annotations

import csv
import datetime as dt
import json
import os
import random
import sys

import duckdb

ROOT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "sample-mesh")
rng = random.Random(20261125)
START = dt.datetime(2025, 1, 1)
END = dt.datetime(2026, 10, 31)

FIRST = ["Ava", "Liam", "Noah", "Emma", "Mia", "Lucas", "Sofia", "Elias", "Lea", "Jonas", "Nora", "Finn", "Ida",
         "Oskar", "Clara", "Milan", "Zoe", "Leon", "Hanna", "Theo", "Yuki", "Ravi", "Amara", "Mateo", "Ines"]
LAST = ["Keller", "Novak", "Jansen", "Moreau", "Rossi", "Silva", "Berg", "Larsen", "Weber", "Costa", "Dubois",
        "Fischer", "Nagy", "Horvat", "Lindqvist", "Meyer", "Okafor", "Tanaka", "Patel", "Garcia"]
COUNTRIES = [("DE", ["Berlin", "Munich", "Hamburg"]), ("FR", ["Paris", "Lyon"]), ("NL", ["Amsterdam", "Utrecht"]),
             ("SE", ["Stockholm", "Gothenburg"]), ("AT", ["Vienna", "Graz"]), ("CH", ["Zurich", "Bern"]),
             ("IT", ["Milan", "Turin"]), ("ES", ["Madrid", "Valencia"])]
CATEGORIES = {"tents": (80, 600), "backpacks": (40, 280), "sleeping-bags": (50, 350), "footwear": (60, 240),
              "jackets": (70, 450), "stoves": (25, 160), "navigation": (15, 400), "climbing": (10, 300)}
BRANDS = ["Fjellrev", "Alpenwerk", "Nordkamm", "Trailhawk", "Cirrus", "Basalt", "Moraine", "Kestrel"]
WAREHOUSES = ["WH-BER", "WH-AMS", "WH-LYO", "WH-MIL", "WH-STO", "WH-VIE"]
CARRIERS = ["DHL", "DPD", "PostNord", "GLS", "UPS"]


def when(a: dt.datetime = START, b: dt.datetime = END) -> dt.datetime:
    return a + dt.timedelta(seconds=rng.randrange(int((b - a).total_seconds())))


def write_csv(path: str, header: list[str], rows: list[list]) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        for r in rows:
            w.writerow(["" if v is None else v for v in r])


def to_parquet(csv_path: str, parquet_path: str, select: str = "*") -> None:
    con = duckdb.connect()
    con.execute(f"COPY (SELECT {select} FROM read_csv('{csv_path}', header=true)) TO '{parquet_path}' (FORMAT parquet)")
    os.remove(csv_path)


def write_ndjson(path: str, records: list[dict]) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


def p(*parts: str) -> str:
    return os.path.join(ROOT, *parts)


# --- customers -----------------------------------------------------------------------------------------------
customers = []
for cid in range(1, 2501):
    first, last = rng.choice(FIRST), rng.choice(LAST)
    country, cities = rng.choice(COUNTRIES)
    born = dt.date(1950, 1, 1) + dt.timedelta(days=rng.randrange(365 * 55))
    signup = when(START - dt.timedelta(days=900), END - dt.timedelta(days=30))
    customers.append([cid, f"{first} {last}", f"{first}.{last}{cid}@example.com".lower(),
                      f"+{rng.randrange(30, 49)} {rng.randrange(100, 999)} {rng.randrange(1000000, 9999999)}",
                      born.isoformat(), country, rng.choice(cities), signup.date().isoformat(),
                      rng.choices(["bronze", "silver", "gold", "platinum"], [60, 25, 12, 3])[0],
                      rng.random() < 0.58])
write_csv(p("customers", "customer-profiles", "data", "customer_profiles.csv"),
          ["customer_id", "full_name", "email", "phone", "birth_date", "country", "city", "signup_date",
           "loyalty_tier", "marketing_opt_in"], customers)

consents = []
for i in range(1, 3601):
    cid = rng.randrange(1, 2501)
    consents.append({"consent_id": i, "customer_id": cid, "channel": rng.choice(["email", "sms", "post"]),
                     "granted": rng.random() < 0.7,
                     "recorded_at": when().strftime("%Y-%m-%dT%H:%M:%S")})
for j in range(4):  # planted: duplicated consent records
    dup = dict(consents[100 + j * 50])
    consents.append(dup)
write_ndjson(p("customers", "consents", "data", "consents.ndjson"), consents)

# --- catalog (merchandising) ---------------------------------------------------------------------------------
products = []
for n in range(1, 401):
    cat = rng.choice(list(CATEGORIES))
    lo, hi = CATEGORIES[cat]
    price = round(rng.uniform(lo, hi), 2)
    products.append({"sku": f"SKU-{n:05d}", "name": f"{rng.choice(BRANDS)} {cat.rstrip('s').title()} {rng.randrange(1, 99)}",
                     "category": cat, "brand": rng.choice(BRANDS), "unit_cost": round(price * rng.uniform(.35, .6), 2),
                     "list_price": price, "launched_on": (dt.date(2019, 1, 1) + dt.timedelta(days=rng.randrange(2500))).isoformat(),
                     "discontinued": rng.random() < 0.08, "weight_kg": round(rng.uniform(.1, 6.5), 2),
                     "attributes": {"color": rng.choice(["black", "olive", "red", "blue", "grey"]),
                                    "waterproof": rng.random() < .5}})
os.makedirs(p("catalog", "products", "data"), exist_ok=True)
with open(p("catalog", "products", "data", "products.json"), "w", encoding="utf-8") as f:
    json.dump(products, f, indent=1)
price_of = {x["sku"]: x["list_price"] for x in products}

stock = []
for wh in WAREHOUSES:
    for x in products:
        on_hand = rng.randrange(0, 400)
        stock.append(["2026-10-31", wh, x["sku"], on_hand, min(on_hand, rng.randrange(0, 40))])
write_csv(p("catalog", "stock-levels", "data", "stock_levels.csv"),
          ["snapshot_date", "warehouse_id", "sku", "on_hand", "reserved"], stock)

# --- sales ---------------------------------------------------------------------------------------------------
orders, lines = [], []
negative_left = 23
for oid in range(100001, 112001):
    ts = when()
    channel = rng.choices(["web", "app", "store"], [55, 25, 20])[0]
    n_lines = rng.choices([1, 2, 3, 4], [50, 30, 15, 5])[0]
    total = 0.0
    for ln in range(1, n_lines + 1):
        sku = rng.choice(products)["sku"]
        qty = rng.choices([1, 2, 3], [80, 15, 5])[0]
        if negative_left and rng.random() < 0.003:
            qty, negative_left = -qty, negative_left - 1  # planted: returns booked as negative sales lines
        disc = rng.choice([0, 0, 0, 5, 10, 15])
        unit = price_of[sku]
        total += abs(qty) * unit * (1 - disc / 100)  # the order system itself was right
        lines.append([oid, ln, sku, qty, f"{unit:.2f}", disc])
    status = rng.choices(["placed", "shipped", "delivered", "cancelled", "returned"], [5, 10, 75, 6, 4])[0]
    orders.append([oid, rng.randrange(1, 2501), ts.strftime("%Y-%m-%d %H:%M:%S"), channel,
                   None if channel != "store" else f"ST-{rng.randrange(1, 13):02d}", status, "EUR", f"{total:.2f}"])
while negative_left:  # make the planted count exact
    i = rng.randrange(len(lines))
    if lines[i][3] > 0:
        lines[i][3], negative_left = -lines[i][3], negative_left - 1
write_csv(p("sales", "orders", "data", "orders.csv"),
          ["order_id", "customer_id", "order_ts", "channel", "store_id", "status", "currency", "total_amount"], orders)
to_parquet(p("sales", "orders", "data", "orders.csv"), p("sales", "orders", "data", "orders.parquet"),
           "order_id::BIGINT AS order_id, customer_id::BIGINT AS customer_id, order_ts::TIMESTAMP AS order_ts, channel, "
           "store_id::VARCHAR AS store_id, status, currency, total_amount::DECIMAL(12,2) AS total_amount")
write_csv(p("sales", "order-lines", "data", "order_lines.csv"),
          ["order_id", "line_no", "sku", "quantity", "unit_price", "discount_pct"], lines)

# --- marketing -----------------------------------------------------------------------------------------------
campaigns = []
for n in range(1, 41):
    start = when(START, END - dt.timedelta(days=60)).date()
    campaigns.append({"campaign_id": f"CMP-{n:03d}", "name": f"{rng.choice(['Spring', 'Summit', 'Trail', 'Winter', 'Base Camp'])} "
                      f"{rng.choice(['Sale', 'Launch', 'Week', 'Drop'])} {start.year}", "channel": rng.choice(["email", "social", "search", "display"]),
                      "starts_on": start.isoformat(), "ends_on": (start + dt.timedelta(days=rng.randrange(7, 45))).isoformat(),
                      "budget_eur": rng.randrange(2, 80) * 500})
write_ndjson(p("marketing", "campaigns", "data", "campaigns.ndjson"), campaigns)

sessions = []
for n in range(1, 20001):
    ts = when()
    converted = orders[rng.randrange(len(orders))][0] if rng.random() < 0.06 else None
    sessions.append([f"s-{n:06d}", f"v-{rng.randrange(1, 9000):05d}", ts.strftime("%Y-%m-%d %H:%M:%S"),
                     rng.choice(["/", "/tents", "/backpacks", "/sale", "/footwear", "/jackets", "/blog/hut-to-hut"]),
                     rng.choice(["google", "newsletter", "instagram", "direct", "partner", None]),
                     rng.choice(["desktop", "mobile", "tablet"]),
                     f"{rng.randrange(11, 223)}.{rng.randrange(0, 255)}.{rng.randrange(0, 255)}.{rng.randrange(1, 254)}",
                     converted, rng.choice([c["campaign_id"] for c in campaigns] + [None] * 20)])
write_csv(p("marketing", "web-sessions", "data", "web_sessions.csv"),
          ["session_id", "visitor_id", "started_at", "landing_page", "utm_source", "device", "ip_address",
           "converted_order_id", "campaign_id"], sessions)
to_parquet(p("marketing", "web-sessions", "data", "web_sessions.csv"), p("marketing", "web-sessions", "data", "web_sessions.parquet"),
           "session_id, visitor_id, started_at::TIMESTAMP AS started_at, landing_page, utm_source, device, ip_address, "
           "converted_order_id::BIGINT AS converted_order_id, campaign_id::VARCHAR AS campaign_id")

# --- logistics -----------------------------------------------------------------------------------------------
shipments = []
sid = 500001
for o in orders:
    if o[5] in ("shipped", "delivered", "returned"):
        shipped = dt.datetime.strptime(o[2], "%Y-%m-%d %H:%M:%S") + dt.timedelta(hours=rng.randrange(4, 72))
        delivered = shipped + dt.timedelta(hours=rng.randrange(20, 120)) if o[5] != "shipped" else None
        shipments.append([sid, o[0], rng.choice(CARRIERS), rng.choice(WAREHOUSES), shipped.strftime("%Y-%m-%d %H:%M:%S"),
                          delivered.strftime("%Y-%m-%d %H:%M:%S") if delivered else None,
                          "delivered" if delivered else "in_transit"])
        sid += 1
write_csv(p("logistics", "shipments", "data", "shipments.csv"),
          ["shipment_id", "order_id", "carrier", "warehouse_id", "shipped_at", "delivered_at", "status"], shipments)

rates = [[c, z, round(rng.uniform(3.5, 19), 2), round(rng.uniform(.3, 1.8), 2)] for c in CARRIERS for z in ["DE", "EU1", "EU2", "CH"]]
write_csv(p("logistics", "carrier-rates", "data", "carrier_rates.csv"), ["carrier", "zone", "base_eur", "per_kg_eur"], rates)
to_parquet(p("logistics", "carrier-rates", "data", "carrier_rates.csv"), p("logistics", "carrier-rates", "data", "carrier_rates.parquet"))
path = p("logistics", "carrier-rates", "data", "carrier_rates.parquet")
with open(path, "rb") as f:
    data = f.read()
with open(path, "wb") as f:  # planted: the export was cut off half-way
    f.write(data[: len(data) // 2])

# --- finance: derived products --------------------------------------------------------------------------------
# finance/revenue-daily and finance/customer-value have no data files: meshbox builds them from sales.orders with the
# SQL transforms in their folders (revenue_daily.sql, customer_value.sql).
print("sample mesh data written to", os.path.abspath(ROOT))
