"""Bulk inserts: many rows per statement, blobs bound without the driver's adapter lookups."""

from __future__ import annotations

from functools import cache

from gateway.store.database import Connection

#: Blobs are bound as ``bytearray``: the driver (pysqlite, as sqlcipher3 0.6 ships it) binds
#: int, float, str and bytearray directly but sends every ``bytes`` value through its adapter
#: protocol first, whose failed ``__adapt__``/``__conform__`` lookups cost about 0.9 us per
#: value. The stored value is the same BLOB either way (tested).
blob = bytearray

#: Rows per multi-row INSERT at most. One statement per chunk of rows costs about 0.25 us less
#: per row than one ``executemany`` step per row.
INSERT_CHUNK = 128
#: SQLite's smallest limit on host parameters per statement (older builds): chunks stay under it.
MAX_PARAMETERS = 999


@cache
def _insert_sql(head: str, width: int, rows: int) -> str:
    one = "(" + ", ".join(["?"] * width) + ")"
    return f"{head} VALUES {', '.join([one] * rows)}"


@cache
def _first_chunk(width: int) -> int:
    size = INSERT_CHUNK
    while size * width > MAX_PARAMETERS:
        size >>= 1
    return size


def insert_flat(conn: Connection, head: str, width: int, values: list[object]) -> None:
    """Insert rows of ``width`` values given one after another in ``values``: chunks of up to
    :data:`INSERT_CHUNK` rows (fewer for wide rows), then powers of two for the rest, so a
    connection prepares at most eight statements per table and the driver's statement cache
    keeps them."""
    total = len(values) // width
    if total * width != len(values):
        raise ValueError(f"{len(values)} values are not rows of {width}.")
    done, size = 0, _first_chunk(width)
    while done < total:
        while size > total - done:
            size >>= 1
        conn.execute(_insert_sql(head, width, size), values[done * width : (done + size) * width])
        done += size
