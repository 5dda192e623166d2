"""``kizuna train``, ``kizuna recommend`` and ``kizuna evaluate``."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich import box
from rich.table import Table

from kizuna.cli.common import console, db_option, store_for
from kizuna.progress import RichProgress
from kizuna.recommend.data import load_training_data
from kizuna.recommend.evaluate.report import write_report
from kizuna.recommend.evaluate.run import SPLITS, evaluate
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
@click.option("--include-bought", is_flag=True,
              help="Also recommend products the customer bought before (replenishment).")  # fmt: skip
@click.option("--exclude-category", "exclude_categories", multiple=True, metavar="PATH",
              help="Never recommend products in this category or below it (repeatable).")  # fmt: skip
@db_option
def recommend_command(
    customer: str,
    name: str,
    n: int,
    lang: str,
    models: Path | None,
    include_bought: bool,
    exclude_categories: tuple[str, ...],
    db: str | None,
) -> None:
    """Recommend products for CUSTOMER (external id, email or #id), with scores and reasons."""
    suggestions = recommend_for(
        store_for(db),
        customer,
        algorithm_name=name,
        n=n,
        lang=lang,
        models=models,
        include_bought=include_bought,
        exclude_categories=exclude_categories,
    )
    table = Table("#", "SKU", title=f"{customer} · {name}")
    # Folded, not cut: Japanese titles and reasons have no spaces to wrap at, and Rich would end them with
    # "…" in an 80-column terminal.
    table.add_column("product", overflow="fold")
    table.add_column("score")
    table.add_column("reason", overflow="fold")
    for rank, s in enumerate(suggestions, start=1):
        table.add_row(str(rank), s.sku, s.title, f"{s.score:.3f}", s.reason_text)
    console.print(table)


@click.command("evaluate")
@click.option("--split", type=click.Choice(SPLITS), default="stratified", show_default=True,
              help="stratified: random per customer; temporal: the last --days are the test; "
                   "leave-last-out: each customer's latest interaction.")  # fmt: skip
@click.option("--ratio", default=0.75, show_default=True, help="Training share per customer (stratified).")
@click.option("--seed", default=42, show_default=True, help="Random seed (stratified).")
@click.option("--days", default=28.0, show_default=True, help="Length of the test period (temporal).")
@click.option("-k", "k", default=10, show_default=True, help="Length of each recommendation list.")
@click.option("--repeats", is_flag=True,
              help="Count products bought again as right answers, and keep them in the lists.")  # fmt: skip
@click.option("--algorithm", "names", multiple=True, type=click.Choice(list(ALGORITHMS)),
              help="Evaluate only this algorithm (repeatable). Default: all.")  # fmt: skip
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write {algorithm: {metric: value, train_seconds: s}} here.")  # fmt: skip
@click.option("--report", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write a markdown report here, with a chart beside it (.png).")  # fmt: skip
@db_option
def evaluate_command(
    split: str,
    ratio: float,
    seed: int,
    days: float,
    k: int,
    repeats: bool,
    names: tuple[str, ...],
    json_path: Path | None,
    report: Path | None,
    db: str | None,
) -> None:
    """Compare recommenders on a train/test split of the store's data: nDCG, precision, recall, MAP@k,
    coverage and novelty."""
    store = store_for(db)
    data = load_training_data(store)
    try:
        with RichProgress(transient=True) as progress:
            result = evaluate(data, names or list(ALGORITHMS), split=split, ratio=ratio, seed=seed, days=days,
                              k=k, repeats=repeats, store=store, progress=progress)  # fmt: skip
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    metrics = [f"ndcg@{k}", f"precision@{k}", f"recall@{k}", f"map@{k}", "coverage", "novelty"]
    title = f"{split} split, k = {k}" + (", repeat purchases count" if repeats else "")
    # Names and headers whole in an 80-column terminal (a boxed table cut them to "popula…" and "preci…"):
    # no vertical rules, and "@k" under each metric's name.
    table = Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    table.add_column("algorithm", no_wrap=True, min_width=max(map(len, result.results), default=9))
    for header in (*metrics, "train s"):
        folded = header.replace("@", "\n@").replace(" ", "\n")
        table.add_column(folded, justify="right", min_width=max(6, *map(len, folded.split("\n"))))
    for name, values in result.results.items():
        table.add_row(name, *(f"{values.get(m, 0.0):.4f}" for m in metrics), f"{values['train_seconds']:.2f}")
    console.print(table)
    for name, why in result.skipped.items():
        console.print(f"[yellow]{name} skipped:[/] {why}")
    if json_path:
        json_path.write_text(json.dumps(result.results, indent=2), encoding="utf-8")
        console.print(f"results → {json_path}")
    if report:
        console.print(f"report → {write_report(result, report)}")
