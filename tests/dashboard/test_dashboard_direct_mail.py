"""The direct mail pages: batches listed, a batch's details and page images, approval for print (CSRF,
roles, state) and downloads (PDFs only once approved; nothing outside the batch's own files)."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from dashboard_dm_batch import BATCH
from dashboard_seed import Seeded, csrf_of
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select

from kizuna.channels.dm.render import BatchReport
from kizuna.store import Store
from kizuna.store.direct_mail import DmBatch

PNG = b"\x89PNG\r\n\x1a\n"


def _status(store: Store) -> tuple[str, str | None]:
    with store.session() as session:
        batch = session.scalars(select(DmBatch).where(DmBatch.name == BATCH)).one()
        return batch.status, batch.approved_by


def test_the_batches_are_listed_with_their_figures(
    client_as: Callable[[str], TestClient], dm_batch: BatchReport
) -> None:
    page = client_as("viewer").get("/direct-mail")
    assert page.status_code == 200
    assert 'href="/direct-mail"' in page.text  # in the menu
    assert f'href="/direct-mail/{BATCH}"' in page.text
    assert "scenario lapsed-sale-dm" in page.text
    assert f">{dm_batch.pieces:,}<" in page.text and f">{dm_batch.pages:,}<" in page.text
    assert "rendered" in page.text


def test_the_detail_page_shows_reasons_images_and_the_approval_rule(
    client_as: Callable[[str], TestClient], dm_batch: BatchReport
) -> None:
    page = client_as("marketer").get(f"/direct-mail/{BATCH}")
    assert page.status_code == 200
    for reason, n in dm_batch.suppressed.items():
        assert f'<td>{reason}</td><td class="num">{n:,}</td>' in page.text
    assert f'src="/direct-mail/{BATCH}/pages/pieces-001.pdf/1.png"' in page.text
    assert 'id="approve"' in page.text
    assert 'id="pdf-after-approval"' in page.text
    assert f'href="/direct-mail/{BATCH}/files/pieces-001.pdf"' not in page.text  # no PDF link before approval
    assert f'href="/direct-mail/{BATCH}/files/manifest.csv"' in page.text


def test_a_page_is_served_as_a_png_image(
    client_as: Callable[[str], TestClient], dm_batch: BatchReport
) -> None:
    client = client_as("marketer")
    answer = client.get(f"/direct-mail/{BATCH}/pages/pieces-001.pdf/2.png")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "image/png"
    assert answer.content.startswith(PNG)
    image = Image.open(io.BytesIO(answer.content))
    assert image.width > 100 and image.height > 100
    assert client.get(f"/direct-mail/{BATCH}/pages/pieces-001.pdf/2.png").content == answer.content
    assert (
        client.get(f"/direct-mail/{BATCH}/pages/pieces-001.pdf/{dm_batch.pages + 1}.png").status_code == 404
    )


@pytest.mark.parametrize(
    "path",
    [
        "pages/..%2F..%2Fetc%2Fpasswd/1.png",
        "pages/%2E%2E/1.png",
        "pages/batch.json/1.png",
        "pages/pieces-001.pdf%00/1.png",
        "pages/pieces-999.pdf/1.png",
        "files/..%2Fbatch.json",
        "files/batch.json",
        "files/%2E%2E",
    ],
)
def test_nothing_outside_the_batch_files_is_served(
    client_as: Callable[[str], TestClient], dm_batch: BatchReport, path: str
) -> None:
    assert client_as("admin").get(f"/direct-mail/{BATCH}/{path}").status_code == 404


def test_an_unknown_batch_is_missing(client_as: Callable[[str], TestClient], dm_batch: BatchReport) -> None:
    client = client_as("admin")
    assert client.get("/direct-mail/no-such-batch").status_code == 404
    assert client.get("/direct-mail/no-such-batch/pages/pieces-001.pdf/1.png").status_code == 404


def test_approval_needs_the_csrf_token_and_a_role_that_may_change(
    client_as: Callable[[str], TestClient], dm_batch: BatchReport, seeded: Seeded
) -> None:
    store = seeded.store
    marketer = client_as("marketer")
    assert marketer.post(f"/direct-mail/{BATCH}/approve", data={}).status_code == 403
    viewer = client_as("viewer")
    token = csrf_of(viewer.get(f"/direct-mail/{BATCH}").text)
    assert 'id="approve"' not in viewer.get(f"/direct-mail/{BATCH}").text
    assert viewer.post(f"/direct-mail/{BATCH}/approve", data={"csrf_token": token}).status_code == 403
    assert viewer.get(f"/direct-mail/{BATCH}/pages/pieces-001.pdf/1.png").status_code == 403
    assert viewer.get(f"/direct-mail/{BATCH}/files/manifest.csv").status_code == 403
    assert _status(store) == ("rendered", None)


def test_the_pdf_is_served_only_after_approval(
    client_as: Callable[[str], TestClient], dm_batch: BatchReport, seeded: Seeded
) -> None:
    store = seeded.store
    client = client_as("marketer")
    assert client.get(f"/direct-mail/{BATCH}/files/pieces-001.pdf").status_code == 403
    manifest = client.get(f"/direct-mail/{BATCH}/files/manifest.csv")
    assert manifest.status_code == 200
    assert manifest.headers["content-disposition"].startswith("attachment")
    assert "dm-dash-1" in manifest.content.decode("utf-8-sig")

    token = csrf_of(client.get(f"/direct-mail/{BATCH}").text)
    answer = client.post(f"/direct-mail/{BATCH}/approve", data={"csrf_token": token}, follow_redirects=False)
    assert answer.status_code == 303
    assert _status(store) == ("approved", "marketer user")
    again = client.post(f"/direct-mail/{BATCH}/approve", data={"csrf_token": token})
    assert again.status_code == 403  # approved already: the batch is left as it is
    assert _status(store) == ("approved", "marketer user")

    pdf = client.get(f"/direct-mail/{BATCH}/files/pieces-001.pdf")
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["content-disposition"].startswith("attachment")
    assert pdf.content.startswith(b"%PDF")
    assert pdf.content == (dm_batch.out_dir / "pieces-001.pdf").read_bytes()  # type: ignore[operator]

    page = client.get(f"/direct-mail/{BATCH}")
    assert 'id="mark-printed"' in page.text and 'id="approve"' not in page.text
    done = client.post(f"/direct-mail/{BATCH}/printed", data={"csrf_token": token}, follow_redirects=False)
    assert done.status_code == 303
    assert _status(store)[0] == "printed"


def test_printing_before_approval_is_refused(
    client_as: Callable[[str], TestClient], dm_batch: BatchReport, seeded: Seeded
) -> None:
    store = seeded.store
    client = client_as("admin")
    token = csrf_of(client.get(f"/direct-mail/{BATCH}").text)
    assert client.post(f"/direct-mail/{BATCH}/printed", data={"csrf_token": token}).status_code == 403
    assert _status(store) == ("rendered", None)


def test_the_page_speaks_japanese(client_as: Callable[[str], TestClient], dm_batch: BatchReport) -> None:
    client = client_as("admin")
    page = client.get(f"/direct-mail/{BATCH}", headers={"accept-language": "ja"})
    assert "印刷を承認" in page.text
