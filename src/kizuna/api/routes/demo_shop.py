"""The demo shop: plain HTML pages with ``data-kizuna-slot`` elements and the snippet, on the catalogue.

``/demo/shop`` has a welcome slot (first visit, returning, segment or scenario content), a "for you" slot
and a pop-up; ``/demo/shop/p/{sku}`` a product with its related products. Served when
``Settings.demo_shop_enabled`` says so. The pages use a write key of their own, created on first use and
kept in ``<data dir>/demo-shop.key``.
"""

from __future__ import annotations

import html
import threading
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from kizuna.api.deps import StoreDep, writing
from kizuna.config import Settings
from kizuna.errors import AuthenticationError, NotFoundError
from kizuna.security.keys import KeyKind, create_key, verify_key
from kizuna.store.engine import Store
from kizuna.store.tables import Product

router = APIRouter(prefix="/demo/shop", tags=["demo"], include_in_schema=False)

_KEY_FILE = "demo-shop.key"
_key_lock = threading.Lock()

_STYLE = """
body{font-family:system-ui,"Hiragino Sans","Noto Sans JP",sans-serif;margin:0;color:#222;background:#fafaf7}
header{background:#2f4f3a;color:#fff;padding:.8rem 1.5rem;display:flex;justify-content:space-between}
header a{color:#fff;text-decoration:none;font-weight:bold}
main{max-width:64rem;margin:0 auto;padding:1rem 1.5rem}
.hero{background:#e8efe6;border-radius:.5rem;padding:1.2rem;margin:1rem 0;min-height:4rem}
.grid,[data-kizuna-slot] .kizuna-items{display:grid;grid-template-columns:repeat(auto-fill,minmax(12rem,1fr));
gap:.8rem}
.card,.kizuna-card{background:#fff;border:1px solid #ddd;border-radius:.4rem;padding:.7rem}
.card a,.kizuna-card a{color:#2f4f3a;text-decoration:none;font-weight:600}
.price,.kizuna-price{color:#a33;margin:.3rem 0}.kizuna-reason{color:#666;font-size:.85rem}
.kizuna-card img{display:none}.muted{color:#666}
footer{margin:3rem 0 1rem;color:#666;font-size:.85rem}.spacer{height:120vh}
"""


def demo_write_key(store: Store, settings: Settings) -> str:
    """The demo pages' write key: the one kept in the data directory if still valid, else a new one."""
    path = Path(settings.data_dir) / _KEY_FILE
    with _key_lock:
        if path.exists():
            token = path.read_text(encoding="utf-8").strip()
            try:
                with store.session() as session:
                    verify_key(session, token, kind=KeyKind.WRITE)
                return token
            except AuthenticationError:
                pass  # revoked, or from another store: make a new one
        with writing(store), store.session() as session, session.begin():
            _, token = create_key(session, kind=KeyKind.WRITE, name="demo shop", source="demo")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(token + "\n", encoding="utf-8")
        path.chmod(0o600)
        return token


def _price(value: float | None) -> str:
    # As the snippet's widgets write it (Intl.NumberFormat in Japanese: the full-width yen sign).
    return "" if value is None else f"￥{value:,.0f}"


def _page(title: str, key: str, body: str) -> str:
    return (
        '<!doctype html><html lang="ja"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style>"
        f'<script src="/kizuna.js" data-write-key="{html.escape(key)}" data-consent="opt-out" async></script>'
        '</head><body><header><a href="/demo/shop">kizuna デモショップ</a>'
        '<span><button type="button" id="kz-personalise-off" '
        'onclick="kizuna.consent({personalisation:false});location.reload()">おすすめ表示をオフ</button> '
        '<button type="button" id="kz-personalise-on" '
        'onclick="kizuna.consent({personalisation:true});location.reload()">オン</button></span></header>'
        f"<main>{body}<footer>このページは kizuna のデモです。"
        '<a href="/privacy/transmission">外部送信について</a></footer></main></body></html>'
    )


def _card(product: Product) -> str:
    link = f"/demo/shop/p/{html.escape(product.sku)}"
    return (
        f'<div class="card"><a href="{link}">{html.escape(product.title)}</a>'
        f'<div class="price">{_price(product.price)}</div>'
        f'<div class="muted">{html.escape(product.category_path or "")}</div></div>'
    )


def _home(store: Store, key: str) -> str:
    with store.session() as session:
        products = list(
            session.scalars(select(Product).where(Product.in_stock.is_(True)).order_by(Product.id).limit(12))
        )
    cards = "".join(_card(p) for p in products) or '<p class="muted">no products: run kizuna demo-data</p>'
    body = (
        '<section class="hero" data-kizuna-slot="home-hero"><h2>日々の暮らしに、ちょうどいいものを</h2>'
        "<p>スキンケアからコーヒー、日本茶まで。</p></section>"
        '<section data-kizuna-slot="home-for-you"><h2>おすすめ商品</h2>'
        f'<div class="grid">{"".join(_card(p) for p in products[:4])}</div></section>'
        f'<h2>すべての商品</h2><div class="grid">{cards}</div>'
        '<div data-kizuna-slot="welcome-popup" hidden></div><div class="spacer"></div>'
    )
    return _page("kizuna デモショップ", key, body)


def _product(store: Store, key: str, sku: str) -> str:
    with store.session() as session:
        product = session.scalars(select(Product).where(Product.sku == sku)).one_or_none()
        if product is None:
            raise NotFoundError(f"no product {sku!r} in the catalogue")
        session.expunge(product)
    body = (
        f'<article data-kizuna-product="{html.escape(product.sku)}"><h1>{html.escape(product.title)}</h1>'
        f'<p class="price">{_price(product.price)}</p>'
        f'<p class="muted">{html.escape(product.category_path or "")}</p>'
        f"<p>{html.escape(product.description or '')}</p></article>"
        '<h2>関連商品</h2><section data-kizuna-slot="product-related" '
        f'data-kizuna-product="{html.escape(product.sku)}">'
        '<p class="muted">人気の商品をご覧ください。</p></section>'
    )
    return _page(product.title, key, body)


def _key(request: Request, store: Store) -> str:
    cached: str | None = getattr(request.app.state, "demo_key", None)
    if cached is None:
        cached = demo_write_key(store, request.app.state.settings)
        request.app.state.demo_key = cached
    return cached


@router.get("", response_class=HTMLResponse)
async def home(request: Request, store: StoreDep) -> HTMLResponse:
    """The shop's top page."""
    key = await run_in_threadpool(_key, request, store)
    return HTMLResponse(await run_in_threadpool(_home, store, key))


@router.get("/p/{sku}", response_class=HTMLResponse)
async def product_page(sku: str, request: Request, store: StoreDep) -> HTMLResponse:
    """A product page."""
    key = await run_in_threadpool(_key, request, store)
    return HTMLResponse(await run_in_threadpool(_product, store, key, sku))
