"""The store: the only package that imports ``sqlcipher3`` or holds SQL.

Everything at rest is encrypted with SQLCipher using a raw 32-byte key (no passphrase KDF per
connection). Higher layers call the functions of the modules here with a connection; they never
build SQL themselves.
"""

from gateway.store.database import Connection, Database, DatabaseKey, transaction
from gateway.store.migrations import LATEST_VERSION, migrate, schema_version

__all__ = [
    "LATEST_VERSION",
    "Connection",
    "Database",
    "DatabaseKey",
    "migrate",
    "schema_version",
    "transaction",
]
