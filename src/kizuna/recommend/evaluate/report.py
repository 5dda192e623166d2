"""An evaluation as a markdown report with a bar chart (PNG, drawn by matplotlib, no network)."""

from __future__ import annotations

from pathlib import Path

from kizuna.recommend.evaluate.run import Evaluation


def chart(evaluation: Evaluation, path: Path) -> Path:
    """Bar chart of nDCG, precision, recall and MAP at k per algorithm."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metrics = [f"{m}@{evaluation.k}" for m in ("ndcg", "precision", "recall", "map")]
    names = list(evaluation.results)
    width = 0.8 / max(len(names), 1)
    figure, axes = plt.subplots(figsize=(10, 4), dpi=100)
    for n, (name, colour) in enumerate(zip(names, colours(len(names)), strict=True)):
        values = [evaluation.results[name].get(m, 0.0) for m in metrics]
        axes.bar([x + n * width for x in range(len(metrics))], values, width, label=name, color=colour)
    axes.set_xticks([x + width * (len(names) - 1) / 2 for x in range(len(metrics))], metrics)
    axes.set_ylabel("score")
    axes.set_title(f"Recommenders on a {evaluation.split['name']} split")
    # Beside the bars, not over them: a dozen algorithms fill the plot.
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    plt.close(figure)
    return path


def colours(n: int) -> list[tuple[float, float, float, float]]:
    """``n`` colours, all different up to 20 (matplotlib's tab20, its dark shades first)."""
    from matplotlib import colormaps

    palette = colormaps["tab20"]
    order = [*range(0, 20, 2), *range(1, 20, 2)]
    return [tuple(palette(order[i % 20])) for i in range(n)]


def markdown(evaluation: Evaluation, chart_name: str | None = None) -> str:
    """The evaluation as a markdown table (one row per algorithm), with the chart when given."""
    split = evaluation.split
    metrics = sorted({m for r in evaluation.results.values() for m in r if m != "train_seconds"})
    lines = [
        "# Recommender evaluation",
        "",
        f"Split: **{split['name']}** (ratio {split['ratio']}, seed {split['seed']}, "
        f"last {split['days']} days for temporal); {split['train']:,} training and "
        f"{split['test']:,} test interactions; k = {evaluation.k}.",
        "",
        "| algorithm | " + " | ".join(metrics) + " | train s |",
        "|---" * (len(metrics) + 2) + "|",
    ]
    for name, result in evaluation.results.items():
        cells = " | ".join(f"{result.get(m, 0.0):.4f}" for m in metrics)
        lines.append(f"| {name} | {cells} | {result.get('train_seconds', 0.0):.2f} |")
    for name, why in evaluation.skipped.items():
        lines.append(f"\n{name}: skipped ({why})")
    if chart_name:
        lines += ["", f"![metrics per algorithm]({chart_name})"]
    return "\n".join(lines) + "\n"


def write_report(evaluation: Evaluation, path: Path) -> Path:
    """Write ``path`` (markdown) and the chart beside it (same name, ``.png``)."""
    picture = chart(evaluation, path.with_suffix(".png"))
    path.write_text(markdown(evaluation, picture.name), encoding="utf-8")
    return path
