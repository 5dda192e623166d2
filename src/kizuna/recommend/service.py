"""Training and serving from the store: the library calls under ``kizuna train`` and ``kizuna recommend``.

Serving keeps each loaded artefact in memory, keyed by its path and checked against the file's modification
time and size on every call (one ``stat``): the dashboard and the API answer from memory, and a retrained
model is picked up at the next request.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import or_, select

from kizuna.config import Settings, get_settings
from kizuna.errors import NotFoundError
from kizuna.privacy.consent import Purpose, may
from kizuna.profiles import find_customer
from kizuna.progress import NullProgress, Progress
from kizuna.recommend.base import Recommender
from kizuna.recommend.data import load_training_data
from kizuna.recommend.reasons import Reason
from kizuna.recommend.registry import ALGORITHMS, algorithm, default_algorithm
from kizuna.store.categories import under_category
from kizuna.store.engine import Store
from kizuna.store.tables import Product


def models_dir(settings: Settings | None = None) -> Path:
    """Where trained model artefacts live: ``<data dir>/models``."""
    return (settings or get_settings()).data_dir / "models"


#: Loaded artefacts by path, with the (modification time, size) they were read at.
_loaded: dict[Path, tuple[tuple[int, int], Recommender]] = {}
_loading = threading.Lock()
#: Most artefacts kept in memory; the oldest loaded is dropped first.
MAX_LOADED = 16


def loaded_model(path: Path) -> Recommender:
    """The artefact at ``path``, read once and kept while the file is unchanged (same mtime and size).

    Raises:
        NotFoundError: there is no file at ``path``.
    """
    try:
        found = path.stat()
    except OSError:
        raise NotFoundError(f"no trained model at {path}: run `kizuna train` first") from None
    stamp = (found.st_mtime_ns, found.st_size)
    cached = _loaded.get(path)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    with _loading:  # one reader per change, however many requests arrive together
        cached = _loaded.get(path)
        if cached is None or cached[0] != stamp:
            cached = (stamp, Recommender.load(path))
            _loaded.pop(path, None)
            while len(_loaded) >= MAX_LOADED:
                _loaded.pop(next(iter(_loaded)))
            _loaded[path] = cached
    return cached[1]


def preload(folder: Path, names: Sequence[str] = ("default", "popularity")) -> list[str]:
    """Load the named artefacts found in ``folder`` into the cache :func:`loaded_model` answers from, so
    that the first request does not wait for them (seconds for a blend at a million customers); the names
    loaded. A damaged or half-written file is left for the request to report."""
    loaded = []
    for name in names:
        path = folder / f"{name}.npz"
        if path.is_file():
            try:
                loaded_model(path)
            except (OSError, ValueError, EOFError, NotFoundError):
                continue
            loaded.append(name)
    return loaded


@dataclass(frozen=True)
class Trained:
    """One trained model: its name, artefact and training time."""

    name: str
    path: Path
    seconds: float


def train(
    store: Store,
    names: Sequence[str] = (),
    *,
    out: Path | None = None,
    progress: Progress | None = None,
) -> list[Trained]:
    """Fit the named algorithms (default: all) on the store's data and save each as an artefact.

    The default model for this catalogue is also saved as ``default.npz``.
    """
    progress = progress or NullProgress()
    out = out or models_dir()
    progress.stage("reading interactions")
    data = load_training_data(store)
    progress.advance(len(data.interactions))  # the count read, shown when the stage closes
    chosen = list(names) or list(ALGORITHMS)
    for name in chosen:
        algorithm(name)  # unknown names fail before any training
    default = default_algorithm(data.n_items)
    done: list[Trained] = []
    progress.stage("training", total=len(chosen))
    for name in chosen:
        started = time.perf_counter()
        model = algorithm(name).from_store(store).fit(data)
        seconds = time.perf_counter() - started
        path = model.save(out / f"{name}.npz", metrics={"train_seconds": seconds})
        if name == default:
            model.save(out / "default.npz", metrics={"train_seconds": seconds})
        done.append(Trained(name, path, seconds))
        progress.advance()
    return done


@dataclass(frozen=True)
class Suggestion:
    """One recommended product, for people: SKU, title, score and reason in words."""

    sku: str
    title: str
    score: float
    reason: Reason
    reason_text: str


def recommend_for(
    store: Store,
    customer_key: str,
    *,
    algorithm_name: str = "default",
    n: int = 10,
    lang: str = "en",
    models: Path | None = None,
    include_bought: bool = False,
    exclude_categories: Sequence[str] = (),
) -> list[Suggestion]:
    """Recommendations for a customer (external id, email or #id) from a trained artefact.

    Consent is checked here, at the point of use: a customer who denied or withdrew personalisation gets the
    non-personalised popularity ranking instead; customers who never decided get the purpose's default
    (``KIZUNA_CONSENT_DEFAULTS``; personalisation is opt-out unless configured otherwise).
    Business filters: out-of-stock products are never recommended, nor products in ``exclude_categories``
    (a category and everything below it, as segments and rules match them); products the customer bought
    before only with ``include_bought``.
    """
    folder = models or models_dir()
    with store.session() as session:
        customer = find_customer(session, customer_key)
        personalised = may(session, customer.id, Purpose.PERSONALISATION)
        query = select(Product.id).where(Product.in_stock.is_(True))
        for prefix in exclude_categories:
            outside = or_(Product.category_path.is_(None), ~under_category(Product.category_path, prefix))
            query = query.where(outside)
        in_stock = list(session.scalars(query))
    name = algorithm_name if personalised else "popularity"
    path = folder / f"{name}.npz"
    if not path.exists():
        raise NotFoundError(f"no trained model {name!r} at {path}: run `kizuna train` first")
    model = loaded_model(path)
    ids, scores, reasons = model.recommend(
        customer.id, n=n, candidates=in_stock, exclude_seen=not include_bought
    )
    with store.session() as session:
        wanted = {int(i) for i in ids} | {i for r in reasons for i in r.item_ids}
        rows = session.execute(select(Product.id, Product.sku, Product.title).where(Product.id.in_(wanted)))
        products = {pid: (sku, title) for pid, sku, title in rows}
    titles = {pid: title for pid, (_, title) in products.items()}
    return [
        Suggestion(products[int(i)][0], products[int(i)][1], float(s), r, r.describe(titles, lang))
        for i, s, r in zip(ids, scores, reasons, strict=True)
        if int(i) in products
    ]
