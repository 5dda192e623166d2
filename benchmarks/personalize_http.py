"""Latency of ``/v1/personalize`` over real HTTP, on the demo store with trained models.

Builds a demo store (SQLite in a temporary directory, or ``--db``), trains popularity and co-occurrence
(served as ``default``), starts the API on a loopback port and asks, one request at a time, for the demo
shop's top page (hero, "for you", pop-up: one batched request for three slots) and product
pages (related products)
as the snippet does, for known visitors' cookie ids. Prints the median and 95th percentile.

    .venv/bin/python benchmarks/personalize_http.py [--customers 2000] [--requests 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import uvicorn
from sqlalchemy import select

from kizuna.api import create_app
from kizuna.config import Settings
from kizuna.ingest.demo import generate_demo_store
from kizuna.recommend.service import models_dir, train
from kizuna.security.keys import create_key
from kizuna.store import open_store
from kizuna.store.tables import Identity, Product


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=2_000)
    parser.add_argument("--requests", type=int, default=1_000)
    parser.add_argument("--db", help="a database URL (default: SQLite in a temporary directory)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="kizuna-personalize-"))
    os.environ["KIZUNA_DATA_DIR"] = str(folder)
    try:
        settings = Settings(data_dir=folder, database_url=args.db)
        store = open_store(settings.resolved_database_url())
        started = time.perf_counter()
        generate_demo_store(store, customers=args.customers, seed=42)
        train(store, ["popularity", "cooccurrence"], out=models_dir(settings))
        shutil.copy(models_dir(settings) / "cooccurrence.npz", models_dir(settings) / "default.npz")
        print(
            f"demo store of {args.customers:,} customers built and trained in "
            f"{time.perf_counter() - started:.1f} s"
        )
        with store.session() as s, s.begin():
            _, key = create_key(s, kind="write", name="bench", source="bench")
            devices = list(
                s.scalars(select(Identity.value).where(Identity.kind == "anonymous_id").limit(500))
            )
            skus = list(s.scalars(select(Product.sku).limit(200)))
        app = create_app(store, settings=settings)
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sock.listen(128)
        config = uvicorn.Config(app, log_level="warning", access_log=False, ws="none")
        server = uvicorn.Server(config)
        threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True).start()
        while not server.started:
            time.sleep(0.01)
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/v1/personalize"
        rng = np.random.default_rng(42)
        timings: dict[str, list[float]] = {"top page (3 slots)": [], "product page (related)": []}
        with httpx.Client(timeout=30) as client:
            for n in range(args.requests + 20):
                device = str(rng.choice(devices)) if devices else f"anon-{n}"
                if n % 2 == 0:
                    name, body = (
                        "top page (3 slots)",
                        {"slots": ["home-hero", "home-for-you", "welcome-popup"]},
                    )
                else:
                    name, body = (
                        "product page (related)",
                        {"slots": ["product-related"], "product": str(rng.choice(skus))},
                    )
                body |= {"writeKey": key, "anonymousId": device, "lang": "ja"}
                t0 = time.perf_counter()
                answer = client.post(url, content=json.dumps(body), headers={"Content-Type": "text/plain"})
                elapsed = (time.perf_counter() - t0) * 1000
                answer.raise_for_status()
                if n >= 20:  # the first requests load the models
                    timings[name].append(elapsed)
        server.should_exit = True
        print(f"{'request':<26}{'n':>6}{'p50 ms':>9}{'p95 ms':>9}")
        for name, values in timings.items():
            print(f"{name:<26}{len(values):>6}{np.median(values):>9.2f}{np.percentile(values, 95):>9.2f}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
