-- Accounts, sessions, rooms and the webhook outbox.
--
-- Conventions: times are INTEGER Unix microseconds in UTC; booleans are
-- INTEGER 0/1; optional unique strings are NULL when absent. Tables are
-- STRICT so a wrongly typed value is an error, not a silent conversion.

CREATE TABLE users (
	id             TEXT    PRIMARY KEY,
	name           TEXT    CHECK (name <> ''),
	password_hash  TEXT    NOT NULL DEFAULT '',
	wechat_openid  TEXT    CHECK (wechat_openid <> ''),
	wechat_unionid TEXT    CHECK (wechat_unionid <> ''),
	role           TEXT    NOT NULL DEFAULT 'user' CHECK (role IN ('admin', 'user')),
	banned         INTEGER NOT NULL DEFAULT 0 CHECK (banned IN (0, 1)),
	created_at     INTEGER NOT NULL
) STRICT;

CREATE UNIQUE INDEX users_name ON users (name) WHERE name IS NOT NULL;
CREATE UNIQUE INDEX users_wechat_openid ON users (wechat_openid) WHERE wechat_openid IS NOT NULL;
CREATE INDEX users_created ON users (created_at, id);

CREATE TABLE sessions (
	token_hash TEXT    PRIMARY KEY,
	user_id    TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	expires_at INTEGER NOT NULL,
	created_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE rooms (
	id          TEXT    PRIMARY KEY,
	owner_id    TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	title       TEXT    NOT NULL DEFAULT '',
	description TEXT    NOT NULL DEFAULT '',
	private     INTEGER NOT NULL DEFAULT 0 CHECK (private IN (0, 1)),
	stream      TEXT    NOT NULL UNIQUE CHECK (stream <> ''),
	status      TEXT    NOT NULL DEFAULT 'idle' CHECK (status IN ('idle', 'live', 'ended')),
	live_since  INTEGER,
	ended_at    INTEGER,
	likes       INTEGER NOT NULL DEFAULT 0 CHECK (likes >= 0),
	record      INTEGER NOT NULL DEFAULT 0 CHECK (record IN (0, 1)),
	created_at  INTEGER NOT NULL,
	updated_at  INTEGER NOT NULL,
	CHECK (status <> 'live' OR live_since IS NOT NULL)
) STRICT;

CREATE INDEX rooms_created ON rooms (created_at, id);
CREATE INDEX rooms_owner ON rooms (owner_id, created_at, id);
CREATE INDEX rooms_status_live ON rooms (status, live_since, id);

CREATE TABLE events (
	id         TEXT    PRIMARY KEY,
	type       TEXT    NOT NULL CHECK (type <> ''),
	payload    TEXT    NOT NULL CHECK (json_valid(payload)),
	created_at INTEGER NOT NULL
) STRICT;

CREATE INDEX events_created ON events (created_at);

CREATE TABLE deliveries (
	event_id        TEXT    NOT NULL REFERENCES events (id) ON DELETE CASCADE,
	url             TEXT    NOT NULL CHECK (url <> ''),
	attempts        INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
	next_attempt_at INTEGER NOT NULL,
	delivered_at    INTEGER,
	last_error      TEXT    NOT NULL DEFAULT '',
	PRIMARY KEY (event_id, url)
) STRICT, WITHOUT ROWID;

CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE delivered_at IS NULL;
CREATE INDEX deliveries_delivered ON deliveries (delivered_at) WHERE delivered_at IS NOT NULL;
