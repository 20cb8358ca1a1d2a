"""The art. 30 PDF: Dutch, A4, paginated, and rendered without fetching anything."""

from __future__ import annotations

import io
import logging
from datetime import UTC, datetime

import pytest
from pypdf import PdfReader

from gateway.policy import Policy
from gateway.register.art30 import build_art30, render_html
from gateway.register.pdf import FetchRefused, RefusingURLFetcher, render_pdf

WHEN = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
A4_POINTS = (595.28, 841.89)


@pytest.fixture(scope="module")
def weert_pdf(weert: Policy) -> bytes:
    return render_pdf(render_html(build_art30(weert, generated_at=WHEN)))


def _text(reader: PdfReader) -> str:
    return "\n".join(page.extract_text() for page in reader.pages)


def test_pdf_is_a_paginated_dutch_a4_document(weert: Policy, weert_pdf: bytes) -> None:
    assert weert_pdf.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(weert_pdf))
    pages = len(reader.pages)
    assert pages > 1
    width, height = (float(v) for v in reader.pages[0].mediabox.upper_right)
    assert width == pytest.approx(A4_POINTS[0], abs=1)
    assert height == pytest.approx(A4_POINTS[1], abs=1)
    first = reader.pages[0].extract_text()
    assert "Verwerkingsverantwoordelijke" in first
    assert "Functionaris" in first
    assert "pagina 1 van" in first
    assert weert.version_id in "".join(first.split())  # a long hash may wrap
    assert "30-11-2026 12:00 UTC" in first
    text = _text(reader)
    assert f"pagina {pages} van {pages}" in text
    assert "Maandelijks signaal huurachterstand" in text
    assert "Doorgifte naar derde landen" in text


def test_pdf_in_english(weert: Policy) -> None:
    html = render_html(build_art30(weert, generated_at=WHEN), lang="en")
    text = _text(PdfReader(io.BytesIO(render_pdf(html))))
    assert "Controller" in text
    assert "page 1 of" in text


def test_pdf_uses_dejavu_sans(weert_pdf: bytes) -> None:
    reader = PdfReader(io.BytesIO(weert_pdf))
    fonts = reader.pages[0]["/Resources"]["/Font"]
    names = {str(font.get_object()["/BaseFont"]) for font in fonts.values()}
    assert any("DejaVu-Sans" in name for name in names), names


def test_the_fetcher_refuses_everything() -> None:
    fetcher = RefusingURLFetcher()
    for url in ("http://127.0.0.1:9/x.png", "file:///etc/passwd", "data:text/plain,hi"):
        with pytest.raises(FetchRefused):
            fetcher.fetch(url)
        with pytest.raises(FetchRefused):
            fetcher(url)
    assert len(fetcher.refused) == 6


def test_a_remote_image_is_refused_and_the_pdf_still_renders(
    caplog: pytest.LogCaptureFixture,
) -> None:
    html = (
        '<!DOCTYPE html><html lang="nl"><head><meta charset="utf-8">'
        "<style>@import url('http://127.0.0.1:9/x.css');"
        "body { background: url('http://127.0.0.1:9/bg.png') }</style></head><body>"
        '<p>Verwerkingsverantwoordelijke</p><img src="http://127.0.0.1:9/x.png" alt="x">'
        '<link rel="stylesheet" href="file:///etc/passwd"></body></html>'
    )
    fetcher = RefusingURLFetcher()
    with caplog.at_level(logging.WARNING, logger="gateway.register.pdf"):
        pdf = render_pdf(html, url_fetcher=fetcher)
    assert pdf.startswith(b"%PDF-")
    assert "http://127.0.0.1:9/x.png" in fetcher.refused
    assert "http://127.0.0.1:9/x.css" in fetcher.refused
    assert "Verwerkingsverantwoordelijke" in _text(PdfReader(io.BytesIO(pdf)))
    # Our log names no URL: a label could carry one.
    ours = [r for r in caplog.records if r.name == "gateway.register.pdf"]
    assert len(ours) == len(fetcher.refused)
    assert all("127.0.0.1" not in r.getMessage() for r in ours)


def test_a_malicious_label_cannot_make_the_renderer_fetch(weert: Policy) -> None:
    import dataclasses
    from types import MappingProxyType

    flow_id = sorted(weert.flows)[0]
    flows = dict(weert.flows)
    evil = '<img src="http://127.0.0.1:9/x.png"><script>alert(1)</script>'
    flows[flow_id] = dataclasses.replace(flows[flow_id], label_nl=evil)
    policy = dataclasses.replace(weert, flows=MappingProxyType(flows))
    fetcher = RefusingURLFetcher()
    pdf = render_pdf(render_html(build_art30(policy, generated_at=WHEN)), url_fetcher=fetcher)
    assert fetcher.refused == []  # escaped: there was nothing to fetch
    assert '<img src="http://127.0.0.1:9/x.png">' in _text(PdfReader(io.BytesIO(pdf)))
