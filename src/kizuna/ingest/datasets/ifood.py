"""iFood CRM case (mock data by its publisher's account): 2,240 customers and their six campaigns.

Each row becomes a customer, with the demographic, spend and purchase columns as attributes, and a
member of six campaigns: ``AcceptedCmp1`` .. ``AcceptedCmp5`` and ``Response``, the sixth (a phone
pilot offering a new gadget). ``Z_CostContact`` and ``Z_Revenue`` are constants of the case's profit
calculation; they are kept on the campaigns.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from kizuna.ingest.datasets import DatasetAdapter
from kizuna.ingest.datasets._textfile import (
    BATCH,
    Record,
    count_lines,
    csv_records,
    require_file,
    zero_one,
)
from kizuna.ingest.values import parse_date, parse_float, parse_int, parse_str
from kizuna.ingest.writer import ImportSummary, Row, StoreWriter, import_run
from kizuna.progress import NullProgress, Progress
from kizuna.store.bulk import chunked
from kizuna.store.engine import Store

NAME = "ifood"


def _iso_date(value: str) -> str | None:
    parsed: date | None = parse_date(value)
    return parsed.isoformat() if parsed else None


#: Column → (attribute name, parser, required) for the customer's attributes, in file order.
ATTRIBUTES: dict[str, tuple[str, Callable[[str], Any], bool]] = {
    "Year_Birth": ("year_birth", parse_int, True),
    "Education": ("education", parse_str, True),
    "Marital_Status": ("marital_status", parse_str, True),
    "Income": ("income", parse_float, False),  # blank for 24 customers
    "Kidhome": ("kidhome", parse_int, True),
    "Teenhome": ("teenhome", parse_int, True),
    "Dt_Customer": ("customer_since", _iso_date, True),
    "Recency": ("recency", parse_int, True),
    "MntWines": ("mnt_wines", parse_float, True),
    "MntFruits": ("mnt_fruits", parse_float, True),
    "MntMeatProducts": ("mnt_meat_products", parse_float, True),
    "MntFishProducts": ("mnt_fish_products", parse_float, True),
    "MntSweetProducts": ("mnt_sweet_products", parse_float, True),
    "MntGoldProds": ("mnt_gold_prods", parse_float, True),
    "NumDealsPurchases": ("num_deals_purchases", parse_int, True),
    "NumWebPurchases": ("num_web_purchases", parse_int, True),
    "NumCatalogPurchases": ("num_catalog_purchases", parse_int, True),
    "NumStorePurchases": ("num_store_purchases", parse_int, True),
    "NumWebVisitsMonth": ("num_web_visits_month", parse_int, True),
    "Complain": ("complain", zero_one, True),
}
#: Campaign suffix → the column holding each customer's response to it.
CAMPAIGNS = {
    "cmp1": "AcceptedCmp1",
    "cmp2": "AcceptedCmp2",
    "cmp3": "AcceptedCmp3",
    "cmp4": "AcceptedCmp4",
    "cmp5": "AcceptedCmp5",
    "cmp6": "Response",
}
CONSTANTS = {"Z_CostContact": "cost_per_contact", "Z_Revenue": "revenue_per_response"}
COLUMNS = ("ID", *ATTRIBUTES, *CAMPAIGNS.values(), *CONSTANTS)


@dataclass
class _Constants:
    """The case's profit constants, read from the first row; every row must repeat them."""

    values: dict[str, int] | None = None

    def check(self, record: Record) -> None:
        row = {column: record.required(column, parse_int) for column in CONSTANTS}
        if self.values is None:
            self.values = row
        for column, value in row.items():
            if value != self.values[column]:
                raise record.error(
                    "the value differs from the first row",
                    column=column,
                    expected=f"the same {column} on every row ({self.values[column]})",
                )


def campaigns(prefix: str, constants: dict[str, int]) -> list[Row]:
    """The six campaigns as rows, carrying the case's cost and revenue constants."""
    money = {name: constants[column] for column, name in CONSTANTS.items()}
    rows = []
    for number, (suffix, column) in enumerate(CAMPAIGNS.items(), start=1):
        last = number == len(CAMPAIGNS)
        rows.append(
            {
                "external_id": f"{prefix}{suffix}",
                "name": "iFood gadget pilot (campaign 6)" if last else f"iFood campaign {number}",
                "kind": "phone" if last else None,
                "description": (
                    "Pilot of the sixth campaign: customers chosen at random were called and "
                    "offered a new gadget; responded = bought it."
                    if last
                    else f"Earlier campaign {number}; responded = accepted the offer."
                ),
                "attributes": {**money, "sequence": number, "source_column": column},
            }
        )
    return rows


def import_ifood(
    store: Store, path: Path, *, prefix: str = "ifood-", progress: Progress | None = None
) -> ImportSummary:
    """Import the iFood case file ``ml_project1_data.csv`` into ``store``.

    Args:
        store: where to write.
        path: ``ml_project1_data.csv`` (29 columns, one row per customer).
        prefix: put before customer ids and campaign ids (``ifood-cmp1`` .. ``ifood-cmp6``).
        progress: shows progress.

    Returns:
        What was added; a second import adds nothing.

    Raises:
        ImportDataError: the file is missing, empty, lacks a column or has a line that cannot be
            read; nothing is written then.
    """
    path = require_file(Path(path), "ml_project1_data.csv of the iFood CRM case")
    shown = progress or NullProgress()
    constants = _Constants()
    with import_run(store, NAME, path, progress=progress) as (writer, summary):
        shown.stage("iFood customers", total=count_lines(path) - 1)
        campaign_ids: dict[str, int] = {}
        for batch in chunked(_rows(csv_records(path, COLUMNS), prefix, constants), BATCH):
            if not campaign_ids:
                assert constants.values is not None  # set by the first row
                campaign_ids = writer.write_campaigns(campaigns(prefix, constants.values))
            _write(writer, batch, prefix, campaign_ids)
            shown.advance(len(batch))
    return summary


def _rows(
    records: Iterable[Record], prefix: str, constants: _Constants
) -> Iterator[tuple[Row, dict[str, bool]]]:
    """(customer, {campaign suffix: responded}) per row."""
    seen: dict[int, int] = {}
    for record in records:
        customer_id = record.required("ID", parse_int)
        if customer_id in seen:
            raise record.error(
                f"the ID appears twice (first on line {seen[customer_id]})",
                column="ID",
                expected="each ID once",
            )
        seen[customer_id] = record.line
        constants.check(record)
        attributes = {
            name: record.required(column, parse) if required else record.optional(column, parse)
            for column, (name, parse, required) in ATTRIBUTES.items()
        }
        responses = {suffix: record.required(column, zero_one) for suffix, column in CAMPAIGNS.items()}
        yield {"external_id": f"{prefix}{customer_id}", "attributes": attributes}, responses


def _write(
    writer: StoreWriter,
    batch: list[tuple[Row, dict[str, bool]]],
    prefix: str,
    campaign_ids: dict[str, int],
) -> None:
    writer.write_customers([customer for customer, _ in batch])
    ids = writer.customer_ids(customer["external_id"] for customer, _ in batch)
    writer.write_campaign_members(
        [
            {
                "campaign_id": campaign_ids[f"{prefix}{suffix}"],
                "customer_id": ids[customer["external_id"]],
                "arm": "offer",
                "is_control": False,
                "responded": responded,
            }
            for customer, responses in batch
            for suffix, responded in responses.items()
        ]
    )


ADAPTER = DatasetAdapter(
    name=NAME,
    summary="iFood CRM case (mock data): 2,240 customers and their responses to six campaigns.",
    path_help="ml_project1_data.csv (29 columns: ID, Year_Birth ... Z_Revenue, Response).",
    default_prefix="ifood-",
    run=import_ifood,
)
