"""Query-string arguments: an unknown parameter is refused, as in every other schema."""

from __future__ import annotations

from typing import Any

# webargs excludes unknown query parameters by default: its per-location default overrides the
# schema's ``Meta.unknown``. ``unknown=None`` hands the decision back to the schema (RAISE), so
# ``?limt=5`` is a 400 that names the parameter instead of a silent default page.
QUERY: dict[str, Any] = {"location": "query", "unknown": None}
