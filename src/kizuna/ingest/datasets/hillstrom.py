"""Kevin Hillstrom's MineThatData e-mail experiment (March 2008): 64,000 customers, three arms.

Each row becomes a customer (numbered by its data row, since the file has no ids) and a member of
one campaign, in the arm of its ``segment``; ``No E-Mail`` is the control. The member's response is
the two weeks' outcome: ``visit`` (responded), ``conversion`` (converted) and ``spend`` (revenue).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from kizuna.ingest.datasets import DatasetAdapter
from kizuna.ingest.datasets._textfile import (
    BATCH,
    Record,
    count_lines,
    csv_records,
    require_file,
    zero_one,
)
from kizuna.ingest.values import Expected, parse_float, parse_int, parse_str
from kizuna.ingest.writer import ImportSummary, Row, StoreWriter, import_run
from kizuna.progress import NullProgress, Progress
from kizuna.store.bulk import chunked
from kizuna.store.engine import Store

NAME = "hillstrom"
COLUMNS = (
    "recency",
    "history_segment",
    "history",
    "mens",
    "womens",
    "zip_code",
    "newbie",
    "channel",
    "segment",
    "visit",
    "conversion",
    "spend",
)
CONTROL = "No E-Mail"
ARMS = {
    "Mens E-Mail": "an e-mail featuring men's merchandise",
    "Womens E-Mail": "an e-mail featuring women's merchandise",
    CONTROL: "no e-mail (control group)",
}


def campaign(prefix: str) -> Row:
    """The experiment as a campaign row."""
    return {
        "external_id": f"{prefix}email-2008",
        "name": "MineThatData e-mail experiment (March 2008)",
        "kind": "email",
        "description": (
            "Customers who bought in the last twelve months were split at random into three "
            "equal groups: a men's e-mail, a women's e-mail, and no e-mail. Visits, conversions "
            "and spend were tracked for two weeks after the e-mail."
        ),
        "attributes": {
            "arms": ARMS,
            "control_arm": CONTROL,
            "outcome_window_days": 14,
            "outcomes": {
                "visit": "visited the website within two weeks (responded)",
                "conversion": "bought within two weeks (converted)",
                "spend": "dollars spent within two weeks (revenue)",
            },
            "source": "Hillstrom (2008), MineThatData E-Mail Analytics and Data Mining Challenge",
        },
    }


def import_hillstrom(
    store: Store, path: Path, *, prefix: str = "hs-", progress: Progress | None = None
) -> ImportSummary:
    """Import ``hillstrom.csv`` into ``store``: customers, the campaign and its members.

    Args:
        store: where to write.
        path: ``hillstrom.csv`` (the 12-column file with visit, conversion and spend).
        prefix: put before customer ids (``hs-00001`` is the first data row) and the campaign id.
        progress: shows progress.

    Returns:
        What was added; a second import adds nothing.

    Raises:
        ImportDataError: the file is missing, empty, lacks a column or has a line that cannot be
            read; nothing is written then.
    """
    path = require_file(Path(path), "hillstrom.csv, the MineThatData e-mail experiment file")
    shown = progress or NullProgress()
    with import_run(store, NAME, path, progress=progress) as (writer, summary):
        campaign_id = writer.write_campaigns([campaign(prefix)])[f"{prefix}email-2008"]
        shown.stage("Hillstrom customers", total=count_lines(path) - 1)
        members: list[Row] = []
        for batch in chunked(_rows(csv_records(path, COLUMNS), prefix), BATCH):
            writer.write_customers([customer for customer, _ in batch])
            members.extend(member for _, member in batch)
            shown.advance(len(batch))
        # Members are written once every customer is in: looking ids up while the table is still
        # growing in this transaction can leave PostgreSQL with a plan made for a tiny table.
        shown.stage("Hillstrom campaign members", total=len(members))
        for chunk in chunked(members, BATCH):
            _write_members(writer, chunk, campaign_id)
            shown.advance(len(chunk))
    return summary


def _rows(records: Iterable[Record], prefix: str) -> Iterator[tuple[Row, Row]]:
    """(customer, member) pairs; the member names its customer by ``external_id`` until written."""
    for number, record in enumerate(records, start=1):
        external_id = f"{prefix}{number:05d}"
        segment = record.required("segment", _segment)
        visit = record.required("visit", zero_one)
        conversion = record.required("conversion", zero_one)
        spend = record.required("spend", parse_float)
        customer = {
            "external_id": external_id,
            "attributes": {
                "recency_months": record.required("recency", parse_int),
                "history_segment": record.required("history_segment", parse_str),
                "history": record.required("history", parse_float),
                "mens": record.required("mens", zero_one),
                "womens": record.required("womens", zero_one),
                "zip_area": record.required("zip_code", parse_str),
                "newbie": record.required("newbie", zero_one),
                "channel": record.required("channel", parse_str),
            },
        }
        member = {
            "customer_external_id": external_id,
            "arm": segment,
            "is_control": segment == CONTROL,
            "responded": visit,
            "converted": conversion,
            "revenue": spend,
            "outcome": {"visit": int(visit), "conversion": int(conversion), "spend": spend},
        }
        yield customer, member


def _write_members(writer: StoreWriter, members: list[Row], campaign_id: int) -> None:
    ids = writer.customer_ids(member["customer_external_id"] for member in members)
    writer.write_campaign_members(
        [
            {
                **{k: v for k, v in member.items() if k != "customer_external_id"},
                "campaign_id": campaign_id,
                "customer_id": ids[member["customer_external_id"]],
            }
            for member in members
        ]
    )


def _segment(value: str) -> str | None:
    text = value.strip()
    if not text:
        return None
    if text not in ARMS:
        raise Expected(" or ".join(repr(arm) for arm in ARMS))
    return text


ADAPTER = DatasetAdapter(
    name=NAME,
    summary="MineThatData e-mail experiment (2008): 64,000 customers, mens/womens/no e-mail.",
    path_help="hillstrom.csv (12 columns: recency ... segment, visit, conversion, spend).",
    default_prefix="hs-",
    run=import_hillstrom,
)
