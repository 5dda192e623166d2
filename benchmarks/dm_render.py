"""Direct mail rendering speed: personalised print-ready pages per second, and peak memory.

Builds ``--pieces`` synthetic pieces (each with a name, address, 3 recommendations, a coupon, a QR code with
a tracked URL and a customer barcode) and renders them as a print batch into a scratch folder with the
shipped ``postcard`` layout (2 pages a piece), in ``--workers`` processes. Target: ≥ 200 pages/s on 2 cores.

    .venv/bin/python benchmarks/dm_render.py --pieces 2000 --workers 2
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from kizuna.channels.base import OutboxDelivery, Recipient, RenderContext
from kizuna.channels.dm.batch import plan_jobs, render_files
from kizuna.channels.dm.fonts import bundled_font_path
from kizuna.channels.dm.layout import load_layout
from kizuna.channels.dm.piece import Piece, make_piece
from kizuna.channels.dm.sheet import PrintOptions
from kizuna.config import Settings

NOW = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
FAMILY, GIVEN = "佐藤鈴木高橋田中伊藤渡辺山本中村小林加藤", "花子太郎陽菜蓮結衣湊美咲大翔"


def pieces(n: int) -> list[Piece]:
    built = []
    for i in range(n):
        items = [
            {
                "product_id": j,
                "sku": f"sku-{i % 500}-{j}",
                "title": f"季節の和菓子詰め合わせ {i % 97}-{j}",
                "price": 980.0 + 120 * j + i % 50,
                "currency": "JPY",
                "image_url": None,
                "reason": "similar",
                "reason_text": {
                    "ja": f"「煎茶 {i % 13}」をご購入の方に人気です",
                    "en": "Popular with tea buyers",
                },
            }
            for j in range(3)
        ]
        delivery = OutboxDelivery(
            i + 1,
            f"9:dm:{i + 1}:once:1",
            "direct_mail",
            i + 1,
            9,
            i,
            "dm",
            "postcard",
            "a",
            {"coupon": f"SALE-{i:08X}", "recommend": {"items": items}},
            1,
            NOW,
            NOW,
        )
        name = f"{FAMILY[i % 10 * 2 : i % 10 * 2 + 2]} {GIVEN[i % 7 * 2 : i % 7 * 2 + 2]}"
        who = Recipient(
            i + 1,
            f"c-{i:07d}",
            name,
            postal_code=f"{100 + i % 800:03d}{i % 10_000:04d}",
            country="JP",
            prefecture="東京都",
            city="千代田区",
            address_line1=f"千代田{i % 9 + 1}-{i % 30 + 1}-{i % 12 + 1}",
            address_line2=f"コーポ桜 {i % 400 + 100}号室",
        )
        built.append(
            make_piece(
                delivery,
                who,
                RenderContext(NOW, "bench"),
                base_url="https://kizuna.example.jp",
                secret="bench-secret-0123456789",
            )
        )
    return built


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pieces", type=int, default=2_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--chunk", type=int, default=500, help="Pieces per PDF file.")
    parser.add_argument("--bleed", action="store_true")
    args = parser.parse_args()
    layout = load_layout("postcard", Settings())
    built = pieces(args.pieces)
    with tempfile.TemporaryDirectory() as scratch:
        jobs = plan_jobs(
            built,
            Path(scratch),
            layout=layout,
            font_path=bundled_font_path(),
            options=PrintOptions(bleed=args.bleed),
            images_dir=None,
            per_file=args.chunk,
        )
        started = time.perf_counter()
        outcomes = render_files(jobs, workers=args.workers)
        elapsed = time.perf_counter() - started
        pages = sum(sum(o.pages.values()) for o in outcomes)
        size = sum(p.stat().st_size for p in Path(scratch).glob("*.pdf"))
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    rate = pages / elapsed
    print(f"pieces {args.pieces:,}  pages {pages:,}  files {len(outcomes)}  workers {args.workers}")
    print(f"time {elapsed:.2f} s  pages/s {rate:,.0f}  PDF {size / 1e6:.1f} MB")
    print(f"peak memory: main {own:.0f} MB, largest worker {children:.0f} MB")
    print(f"target ≥ 200 pages/s: {'PASS' if rate >= 200 else 'FAIL'}")


if __name__ == "__main__":
    main()
