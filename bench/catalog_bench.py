"""Catalogue benchmarks: search latency over 100,000 listings and import time of a 10,000-row 附件1 file.

Targets (2-core machine): search p95 ≤ 5 ms; import of 10,000 rows ≤ 10 s. Prints the figures;
asserts nothing. Usage: python bench/catalog_bench.py [--listings N] [--rows N] [--database-url URL]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from sqlalchemy import insert, select

from fupin.catalog.attachment1 import SEED_HEADERS
from fupin.catalog.files import import_catalog_files
from fupin.catalog.search import CatalogSearch
from fupin.db import make_engine, make_session_factory
from fupin.models import Household, Listing, Product, SupplyContact, Township, Village, utcnow
from fupin.places import VILLAGES_CSV
from fupin.setup import init_database

PRODUCTS = [
    "土豆", "红薯", "脐橙", "柑橘", "蜂蜜", "腊肉", "土鸡", "土鸡蛋", "核桃", "花椒", "魔芋", "菜籽油", "茶叶",
    "香菇", "黑木耳", "玉米", "白菜", "辣椒", "猪肉", "山羊", "黄豆", "猕猴桃", "枇杷", "板栗", "洋葱", "萝卜",
    "南瓜", "冬瓜", "黄瓜", "豇豆", "四季豆", "莲藕", "生姜", "大蒜", "葱", "芹菜", "菠菜", "莴笋", "茄子",
    "番茄", "苦瓜", "丝瓜", "红枣", "柿子", "李子", "桃子", "梨", "葡萄", "西瓜", "草莓", "樱桃", "杨梅",
    "蓝莓", "金银花", "天麻", "党参", "黄精", "百合", "竹笋", "蕨菜", "豆腐干", "米", "荞麦", "高粱", "绿豆",
    "红豆", "芝麻", "花生", "鸭蛋", "鹅", "鸭", "兔", "鱼", "牛肉", "羊肉", "火腿", "香肠", "酸菜", "泡菜", "粉条",
]  # fmt: skip
QUERIES: list[dict[str, Any]] = [
    {"product": "土豆"},
    {"product": "洋芋"},
    {"product": "蜂密"},
    {"product": "核挑"},
    {"product": "黑木耳"},
    {"place": "龙角"},
    {"place": "泥溪镇"},
    {"product": "土豆", "place": "龙角镇"},
    {"product": "脐橙", "place": "故陵"},
    {"product": "红苕", "place": "张家村"},
]


def build_catalogue(sessions, listings: int, seed: int = 7) -> None:  # type: ignore[no-untyped-def]
    """Insert `listings` listings across the county's real places with bulk inserts."""
    rng = random.Random(seed)
    with sessions() as session, session.begin():
        villages = session.execute(select(Village.id, Village.township_id, Village.code)).all()
        townships = {t.id: t.code for t in session.scalars(select(Township))}
        existing = {p.name: p.id for p in session.scalars(select(Product))}
        for name in PRODUCTS:
            if name not in existing:
                product = Product(name=name)
                session.add(product)
                session.flush()
                existing[name] = product.id
        contacts = []
        for index, (village_id, township_id, _code) in enumerate(villages):
            contacts.append(
                {
                    "name": f"联系人{index}",
                    "phone": f"177{index:08d}",
                    "township_id": township_id,
                    "village_id": village_id,
                }
            )
        session.execute(insert(SupplyContact), contacts)
        contact_ids = dict(session.execute(select(SupplyContact.village_id, SupplyContact.id)).all())
        households = [
            {
                "place_key": f"{townships[t]}/{code}",
                "name": f"户{i}",
                "township_id": t,
                "village_id": v,
                "is_cooperative": False,
            }
            for v, t, code in villages
            for i in range(20)
        ]
        session.execute(insert(Household), households)
        household_ids = session.execute(select(Household.id, Household.village_id)).all()
        village_of = {v: (t, code) for v, t, code in villages}
        now = utcnow()
        batch = []
        for index in range(listings):
            household_id, village_id = rng.choice(household_ids)
            township_id, _code = village_of[village_id]
            product = rng.choice(PRODUCTS)
            remaining = Decimal(rng.choice([0, 50, 100, 300, 1000]))
            batch.append(
                {
                    "listing_key": f"bench/{index}",
                    "township_id": township_id,
                    "village_id": village_id,
                    "household_id": household_id,
                    "product_id": existing[product],
                    "variety": "",
                    "unit": "斤",
                    "planned_quantity": Decimal(1000),
                    "remaining_quantity": remaining,
                    "price_fen": rng.randint(100, 8000),
                    "supply_methods": rng.randint(1, 7),
                    "shop_url": "",
                    "contact_id": contact_ids[village_id],
                    "remarks": "",
                    "active": True,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            if len(batch) == 5000:
                session.execute(insert(Listing), batch)
                batch = []
        if batch:
            session.execute(insert(Listing), batch)


def percentile(samples: list[float], pct: float) -> float:
    """The pct-th percentile of the samples (nearest rank)."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))]


def bench_search(sessions, rounds: int) -> list[float]:  # type: ignore[no-untyped-def]
    """Run the query mix `rounds` times; returns latencies in ms."""
    search = CatalogSearch(sessions, refresh_seconds=60)
    for query in QUERIES:  # warm caches once, as a running bot would be
        search.search(**query)
    samples = []
    for _ in range(rounds):
        for query in QUERIES:
            start = time.perf_counter()
            search.search(**query)
            samples.append((time.perf_counter() - start) * 1000)
    return samples


def write_import_file(path: Path, rows: int, seed: int = 11) -> None:
    """A 附件1 workbook of `rows` rows across real villages, as a township would send it."""
    rng = random.Random(seed)
    villages = [line.split(",") for line in VILLAGES_CSV.read_text(encoding="utf-8").splitlines()[1:]]
    book = Workbook()
    sheet = book.active
    sheet.append(["乡镇（街道）贫困户农特产品待销目录"])
    sheet.append(["填写单位：云阳县农业农村委    填写人：张xx    联系电话：023-55123456    填写日期：2026-11-01"])
    sheet.append(SEED_HEADERS)
    for index in range(rows):
        _code, village, _tcode, township = rng.choice(villages)
        short = village.replace("村民委员会", "").replace("居民委员会", "")
        sheet.append(
            [
                index + 1,
                f"云阳县{township.strip()}{short}",
                f"导入户{index}",
                rng.choice(PRODUCTS),
                f"{rng.randint(1, 500) * 10}斤",
                f"{rng.randint(100, 9000) / 100}元/斤",
                rng.choice(["送货上门", "上门自提", "电商、送货上门"]),
                "",
                f"李xx 177{index:08d}",
                "",
            ]
        )
    book.save(path)


def main() -> int:
    """Build the catalogue, time the searches and the import, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--listings", type=int, default=100_000)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--database-url", help="default: a fresh SQLite file in a temp folder")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        engine = make_engine(url)
        sessions = make_session_factory(engine)
        init_database(engine, sessions)
        start = time.perf_counter()
        build_catalogue(sessions, args.listings)
        print(
            f"catalogue: {args.listings} listings built in {time.perf_counter() - start:.1f}s "
            f"({engine.url.get_backend_name()})"
        )
        samples = bench_search(sessions, args.rounds)
        print(
            f"search: {len(samples)} queries  p50 {statistics.median(samples):.2f} ms  "
            f"p95 {percentile(samples, 95):.2f} ms  p99 {percentile(samples, 99):.2f} ms  (target p95 ≤ 5 ms)"
        )
        path = Path(tmp) / "import.xlsx"
        write_import_file(path, args.rows)
        start = time.perf_counter()
        report = import_catalog_files(sessions, [path])
        elapsed = time.perf_counter() - start
        file_report = report.files[0]
        print(
            f"import: {args.rows} rows in {elapsed:.2f}s  created {file_report.created}  "
            f"updated {file_report.updated}  rejected {len(file_report.issues)}  (target ≤ 10 s)"
        )
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
