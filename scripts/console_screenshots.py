"""Screenshots of every console page for the README: `make screenshots`.

Reuses the browser tests' setup (tests/console/browser/harness.py): a fresh instance in a
temporary folder with fictitious demo data (and its own copy of the policy files, which the
editor publishes into), a real `gateway serve`, and Debian's headless Chromium. Writes PNG
files, 1280 pixels wide, to docs/screenshots/.
"""

from __future__ import annotations

import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gateway.crypto.keys import PartnerKeyPair  # noqa: E402 - after the path is set
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
FLOW = "arrears-signal"
PARTNER = "wonen-limburg"


def shoot(page: Any, name: str, top: float = 0) -> None:
    """The page from ``top`` (CSS pixels) down, at most MAX_HEIGHT high, to OUT/name.png."""
    height = page.evaluate("document.documentElement.scrollHeight")
    page.screenshot(
        path=str(OUT / f"{name}.png"),
        clip={"x": 0, "y": top, "width": 1280, "height": min(height - top, MAX_HEIGHT)},
        full_page=True,
    )


def _top_of(page: Any, selector: str, margin: float = 24) -> float:
    return float(
        max(
            0,
            page.evaluate(
                "s => document.querySelector(s).getBoundingClientRect().top + window.scrollY",
                selector,
            )
            - margin,
        )
    )


def editor(page: Any, base: str) -> None:
    """The flow list; a check with an error; the diff; publish; the history with its diffs."""
    page.goto(f"{base}/console/policy?lang=nl")  # after monitor-en: Dutch again
    shoot(page, "policy")
    page.goto(f"{base}/console/policy/flows/{FLOW}")
    page.uncheck("#r0-allowed-first_names")
    page.fill("#r0-months", "zes")
    page.click("#check")
    page.wait_for_selector("#problems")
    shoot(page, "policy-flow-errors")
    page.check("#r0-allowed-first_names")
    page.fill("#r0-months", "7")
    page.uncheck("#r0-allowed-email")
    page.click("#check")
    page.wait_for_selector("#diff")
    shoot(page, "policy-flow-diff", _top_of(page, "#diff"))
    page.fill("#effective_from", (datetime.now(UTC).date() + timedelta(days=7)).isoformat())
    page.click("#publish")
    page.wait_for_selector("#published")
    page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
    shoot(page, "policy-history")


def partners(page: Any, base: str, workdir: Path) -> None:
    """Add a partner, the fingerprint to compare, the partners page with the key registered."""
    page.goto(f"{base}/console/partners")
    page.select_option("#partner_id", PARTNER)
    page.click("#add-partner")
    page.wait_for_selector("#done")
    key_file = workdir / f"{PARTNER}.pub.json"
    key_file.write_bytes(PartnerKeyPair.generate(PARTNER).public.to_json(datetime.now(UTC)))
    page.set_input_files("#public_key_file", str(key_file))
    page.click("#upload")
    page.wait_for_selector("#fingerprint-shown")
    shoot(page, "key-confirm")
    page.check("#fingerprint-matches")
    page.click("#confirm")
    page.wait_for_selector("#done")
    shoot(page, "partners")


def main() -> int:
    missing = chromium_missing()
    if missing:
        print(f"cannot take screenshots: {missing}", file=sys.stderr)
        return 1
    OUT.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory(prefix="sluis-shots-") as tmp,
        running_gateway(Path(tmp)) as gateway,
        browser_page(locale="nl-NL") as page,
    ):
        page.goto(f"{gateway.base}/console/login")
        page.screenshot(path=str(OUT / "login.png"))
        log_in(page, gateway)
        for name, path in PAGES:
            page.goto(gateway.base + path)
            shoot(page, name)
        editor(page, gateway.base)
        partners(page, gateway.base, Path(tmp))
    for png in sorted(OUT.glob("*.png")):
        print(f"{png.relative_to(ROOT)}  {png.stat().st_size // 1024} KiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
