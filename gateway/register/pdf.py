"""HTML to PDF with WeasyPrint, offline: a URL fetcher that refuses every URL.

The art. 30 HTML is self-contained (inline style, system fonts through fontconfig), so nothing
needs fetching; refusing makes sure a stray ``<img src>`` or ``url()`` can never reach the
network or the file system, whatever ends up in a label.
"""

from __future__ import annotations

import logging
from typing import Any, NoReturn

from weasyprint import HTML
from weasyprint.urls import URLFetcher

log = logging.getLogger(__name__)


class FetchRefused(ValueError):
    """Raised for every URL; WeasyPrint logs it and renders without the resource."""


class RefusingURLFetcher(URLFetcher):  # type: ignore[misc]  # WeasyPrint ships no type hints
    """Never opens anything: no http(s), no file:, no data:. Counts what it refused."""

    def __init__(self) -> None:
        super().__init__(allowed_protocols=(), allow_redirects=False, fail_on_errors=False)
        self.refused: list[str] = []

    def fetch(self, url: str, headers: Any = None) -> NoReturn:
        self.refused.append(url)
        log.warning("pdf: refused to fetch a resource (%d so far)", len(self.refused))
        raise FetchRefused("the art. 30 PDF renderer fetches no resources")


def render_pdf(html: str, *, url_fetcher: RefusingURLFetcher | None = None) -> bytes:
    """An A4 PDF of ``html``; ``url_fetcher`` may be passed to inspect what was refused."""
    fetcher = RefusingURLFetcher() if url_fetcher is None else url_fetcher
    document = HTML(string=html, base_url=None, url_fetcher=fetcher)
    pdf: bytes = document.write_pdf()
    return pdf
