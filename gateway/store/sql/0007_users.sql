-- 0007: console accounts. A user has an argon2id password hash (the PHC string libsodium
-- writes), a TOTP secret (base32; the whole database is encrypted by SQLCipher), a set of roles,
-- and a failed-login counter with a lock. Console sessions are server-side: the browser holds a
-- random token, the table its SHA-256, so logout, a reset or a role change ends them at once.
-- login_throttle counts failures per client address; the address is stored only as a keyed
-- hash (an IP address is personal data).
CREATE TABLE users (
    username       TEXT PRIMARY KEY CHECK (length(username) BETWEEN 2 AND 64),
    password_hash  TEXT NOT NULL CHECK (length(password_hash) <= 256),
    totp_secret    TEXT NOT NULL CHECK (length(totp_secret) BETWEEN 16 AND 128),
    last_totp_step INTEGER NOT NULL DEFAULT 0,
    failed_logins  INTEGER NOT NULL DEFAULT 0 CHECK (failed_logins >= 0),
    locked_until   TEXT,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
) STRICT;

CREATE TABLE user_roles (
    username TEXT NOT NULL REFERENCES users (username) ON DELETE CASCADE,
    role     TEXT NOT NULL CHECK (role IN ('fg', 'admin', 'auditor')),
    PRIMARY KEY (username, role)
) STRICT, WITHOUT ROWID;

CREATE TABLE console_sessions (
    token_hash   BLOB PRIMARY KEY CHECK (length(token_hash) = 32),
    username     TEXT NOT NULL REFERENCES users (username) ON DELETE CASCADE,
    created_at   TEXT NOT NULL,
    last_seen_at TEXT NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX console_sessions_by_user ON console_sessions (username);

CREATE TABLE login_throttle (
    address_key  TEXT PRIMARY KEY CHECK (length(address_key) = 64),
    failures     INTEGER NOT NULL CHECK (failures >= 0),
    window_start TEXT NOT NULL,
    locked_until TEXT
) STRICT, WITHOUT ROWID;
