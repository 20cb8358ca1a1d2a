"""Tests for gateway.register."""
