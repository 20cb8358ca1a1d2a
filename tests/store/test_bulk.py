"""Multi-row inserts store every row, in order, whatever the row count and width."""

from __future__ import annotations

from typing import Any

import pytest
import sqlcipher3
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.store import bulk


@settings(max_examples=40)
@given(rows=st.integers(0, 700), width=st.integers(1, 12))
def test_multi_row_inserts_store_every_row_in_order(rows: int, width: int) -> None:
    conn = sqlcipher3.connect(":memory:")
    try:
        columns = ", ".join(f"c{i}" for i in range(width))
        conn.execute(f"CREATE TABLE t (n INTEGER PRIMARY KEY, {columns})")
        values: list[object] = [i * 10 + j for i in range(rows) for j in range(width)]
        head = f"INSERT INTO t ({columns})"
        bulk.insert_flat(conn, head, width, values)
        found = conn.execute(f"SELECT {columns} FROM t ORDER BY n").fetchall()  # noqa: S608
        assert [v for row in found for v in row] == values
        if width > 1:  # a value short of a whole row is refused before any insert
            with pytest.raises(ValueError, match="not rows of"):
                bulk.insert_flat(conn, head, width, [*values, 1])
    finally:
        conn.close()


class _Recording:
    """Counts the parameters each statement binds, and forwards it."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.bound: list[int] = []

    def execute(self, sql: str, parameters: Any = ()) -> Any:
        self.bound.append(len(parameters))
        return self.conn.execute(sql, parameters)


@pytest.mark.parametrize("width", [1, 6, 9, 10, 12])
def test_no_statement_binds_more_than_the_smallest_parameter_limit(width: int) -> None:
    conn = sqlcipher3.connect(":memory:")
    try:
        columns = ", ".join(f"c{i}" for i in range(width))
        conn.execute(f"CREATE TABLE t ({columns})")
        recording = _Recording(conn)
        bulk.insert_flat(
            recording,  # type: ignore[arg-type]
            f"INSERT INTO t ({columns})",
            width,
            list(range(width * 500)),
        )
        assert conn.execute("SELECT count(*) FROM t").fetchone()[0] == 500
    finally:
        conn.close()
    assert sum(recording.bound) == width * 500
    assert max(recording.bound) <= bulk.MAX_PARAMETERS


def test_a_blob_bound_as_bytearray_is_stored_as_the_same_blob() -> None:
    conn = sqlcipher3.connect(":memory:")
    try:
        conn.execute("CREATE TABLE t (b BLOB)")
        bulk.insert_flat(conn, "INSERT INTO t (b)", 1, [bulk.blob(b"\x00sealed")])
        assert conn.execute("SELECT typeof(b), b FROM t").fetchone() == ("blob", b"\x00sealed")
    finally:
        conn.close()
