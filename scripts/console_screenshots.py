"""Screenshots of every console page for the README: `make screenshots`.

Reuses the browser tests' setup (tests/console/browser/harness.py): a fresh instance in a
temporary folder with fictitious demo data, a real `gateway serve`, and Debian's headless
Chromium. Writes PNG files, 1280 pixels wide, to docs/screenshots/.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.console.browser.harness import (  # noqa: E402 - after the path is set
    browser_page,
    chromium_missing,
    log_in,
    running_gateway,
)

OUT = ROOT / "docs" / "screenshots"
PAGES = [
    ("overview", "/console/"),
    ("register", "/console/register?type=policy.published"),
    ("exports", "/console/exports"),
    ("matrix", "/console/matrix"),
    ("monitor", "/console/monitor"),
    ("monitor-en", "/console/monitor?lang=en"),
]
MAX_HEIGHT = 2400


def main() -> int:
    missing = chromium_missing()
    if missing:
        print(f"cannot take screenshots: {missing}", file=sys.stderr)
        return 1
    OUT.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory(prefix="sluis-shots-") as tmp,
        running_gateway(Path(tmp)) as gateway,
        browser_page() as page,
    ):
        page.goto(f"{gateway.base}/console/login")
        page.screenshot(path=str(OUT / "login.png"))
        log_in(page, gateway)
        for name, path in PAGES:
            page.goto(gateway.base + path)
            height = page.evaluate("document.documentElement.scrollHeight")
            page.screenshot(
                path=str(OUT / f"{name}.png"),
                clip={"x": 0, "y": 0, "width": 1280, "height": min(height, MAX_HEIGHT)},
                full_page=True,
            )
    for png in sorted(OUT.glob("*.png")):
        print(f"{png.relative_to(ROOT)}  {png.stat().st_size // 1024} KiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
