"""``kizuna train`` and ``kizuna recommend``."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from kizuna.cli.common import console, db_option, store_for
from kizuna.progress import RichProgress
from kizuna.recommend.registry import ALGORITHMS
from kizuna.recommend.service import recommend_for, train


@click.command("train")
@click.option("--algorithm", "names", multiple=True, type=click.Choice(list(ALGORITHMS)),
              help="Train only this algorithm (repeatable). Default: all.")  # fmt: skip
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for the model artefacts. Default: KIZUNA_DATA_DIR/models.")  # fmt: skip
@db_option
def train_command(names: tuple[str, ...], out: Path | None, db: str | None) -> None:
    """Train recommenders on the store's purchases and interactions and save them."""
    store = store_for(db)
    with RichProgress() as progress:
        done = train(store, names, out=out, progress=progress)
    for model in done:
        console.print(f"[green]{model.name}[/] trained in {model.seconds:.2f} s → {model.path}")


@click.command("recommend")
@click.argument("customer")
@click.option("--algorithm", "name", default="default", show_default=True,
              help="A trained algorithm's name, or 'default'.")  # fmt: skip
@click.option("-n", "n", default=10, show_default=True, help="How many products.")
@click.option("--lang", type=click.Choice(["en", "ja"]), default="en", show_default=True,
              help="Language of the reasons.")  # fmt: skip
@click.option("--models", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder of model artefacts. Default: KIZUNA_DATA_DIR/models.")  # fmt: skip
@db_option
def recommend_command(
    customer: str, name: str, n: int, lang: str, models: Path | None, db: str | None
) -> None:
    """Recommend products for CUSTOMER (external id, email or #id), with scores and reasons."""
    suggestions = recommend_for(store_for(db), customer, algorithm_name=name, n=n, lang=lang, models=models)
    table = Table("#", "SKU", "product", "score", "reason", title=f"{customer} · {name}")
    for rank, s in enumerate(suggestions, start=1):
        table.add_row(str(rank), s.sku, s.title, f"{s.score:.3f}", s.reason_text)
    console.print(table)
