"""Charts of experiment and scenario results: rates per arm with confidence intervals (matplotlib, offline).

Japanese labels are drawn with IPAexGothic, the font file shipped in the ``japanize-matplotlib`` package. The
package itself is never imported (importing it changes matplotlib's settings for the whole process): only its
font file is located and registered with matplotlib's font manager.
"""

from __future__ import annotations

import math
from pathlib import Path

from scipy import stats as _scipy

from kizuna.errors import ConfigError
from kizuna.fonts import bundled_font_path
from kizuna.measure.experiment import ArmOutcome
from kizuna.measure.stats import Lang, wilson_interval

_LABELS = {
    "en": {
        "response_rate": "response rate",
        "conversion_rate": "conversion rate",
        "revenue": "revenue per customer",
        "share": "share of customers (%)",
        "interval": "bars: {level} confidence intervals",
    },
    "ja": {
        "response_rate": "反応率",
        "conversion_rate": "購入率",
        "revenue": "顧客あたり売上",
        "share": "顧客に占める割合 (%)",
        "interval": "誤差棒: {level} 信頼区間",
    },
}


def japanese_font_file() -> Path | None:
    """IPAexGothic as installed with kizuna (see :mod:`kizuna.fonts`); None when it is not installed."""
    try:
        return bundled_font_path()
    except ConfigError:
        return None


def _font_family(lang: Lang) -> str | None:
    if lang != "ja":
        return None
    path = japanese_font_file()
    if path is None:
        return None
    from matplotlib import font_manager

    font_manager.fontManager.addfont(str(path))
    return str(font_manager.FontProperties(fname=str(path)).get_name())


def _mean_interval(arm: ArmOutcome, confidence: float) -> float:
    summary = arm.summary()
    if summary.n < 2:
        return 0.0
    t = float(_scipy.t.ppf(0.5 + confidence / 2, summary.n - 1))
    return t * math.sqrt(summary.variance / summary.n)


def arms_chart(
    arms: list[ArmOutcome],
    path: Path,
    *,
    title: str,
    confidence: float = 0.95,
    lang: Lang = "en",
    currency: str = "",
) -> Path:
    """Bars of response and conversion rates per arm and of revenue per customer, each with its confidence
    interval, written to ``path`` (the suffix, ``.png`` or ``.svg``, picks the format)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = _LABELS[lang]
    family = _font_family(lang)
    with plt.rc_context({"font.family": [family, "DejaVu Sans"]} if family else None):
        figure, (rates, money) = plt.subplots(1, 2, figsize=(10, 4.2), dpi=100)
        names = [a.arm for a in arms]
        width = 0.38
        for k, metric in enumerate(("response_rate", "conversion_rate")):
            values, below, above = [], [], []
            for arm in arms:
                hits = arm.responded if metric == "response_rate" else arm.converted
                low, high = wilson_interval(hits, arm.customers, confidence)
                value = getattr(arm, metric)
                values.append(100 * value)
                below.append(100 * (value - low))
                above.append(100 * (high - value))
            xs = [x + (k - 0.5) * width for x in range(len(arms))]
            rates.bar(xs, values, width, yerr=[below, above], capsize=4, label=labels[metric])
        rates.set_xticks(range(len(arms)), names, rotation=15)
        rates.set_ylabel(labels["share"])
        rates.legend()
        spend = [a.revenue_per_customer for a in arms]
        errors = [_mean_interval(a, confidence) for a in arms]
        money.bar(range(len(arms)), spend, 0.6, yerr=errors, capsize=4, color="tab:green")
        money.set_xticks(range(len(arms)), names, rotation=15)
        money.set_ylabel(f"{labels['revenue']} ({currency})" if currency else labels["revenue"])
        level = f"{confidence * 100:g} %"
        figure.suptitle(f"{title}\n{labels['interval'].format(level=level)}", fontsize=10)
        figure.tight_layout()
        path.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(path)
        plt.close(figure)
    return path
