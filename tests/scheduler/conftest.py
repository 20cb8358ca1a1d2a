"""Scheduler fixtures: the API's covenant world (clock, partners, envelopes)."""

from tests.api.conftest import clock, world  # noqa: F401 - fixtures shared with the API tests
