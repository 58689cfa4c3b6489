-- Accounts, sessions, rooms and the webhook outbox: store/sqlite's
-- 0001_init in Postgres.
--
-- Conventions: times are timestamptz (microseconds, as the Go side keeps
-- them); optional unique strings are NULL when absent. Keys that order a
-- listing use the "C" collation, so ties sort byte by byte as in SQLite.

CREATE TABLE users (
	id             text COLLATE "C" PRIMARY KEY,
	name           text CHECK (name <> ''),
	password_hash  text NOT NULL DEFAULT '',
	wechat_openid  text CHECK (wechat_openid <> ''),
	wechat_unionid text CHECK (wechat_unionid <> ''),
	role           text NOT NULL DEFAULT 'user' CHECK (role IN ('admin', 'user')),
	banned         boolean NOT NULL DEFAULT false,
	created_at     timestamptz NOT NULL
);

CREATE UNIQUE INDEX users_name ON users (name) WHERE name IS NOT NULL;
CREATE UNIQUE INDEX users_wechat_openid ON users (wechat_openid) WHERE wechat_openid IS NOT NULL;
CREATE INDEX users_created ON users (created_at, id);

CREATE TABLE sessions (
	token_hash text PRIMARY KEY,
	user_id    text COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	expires_at timestamptz NOT NULL,
	created_at timestamptz NOT NULL
);

CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE rooms (
	id          text COLLATE "C" PRIMARY KEY,
	owner_id    text COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	title       text NOT NULL DEFAULT '',
	description text NOT NULL DEFAULT '',
	private     boolean NOT NULL DEFAULT false,
	stream      text NOT NULL UNIQUE CHECK (stream <> ''),
	status      text NOT NULL DEFAULT 'idle' CHECK (status IN ('idle', 'live', 'ended')),
	live_since  timestamptz,
	ended_at    timestamptz,
	likes       bigint NOT NULL DEFAULT 0 CHECK (likes >= 0),
	record      boolean NOT NULL DEFAULT false,
	created_at  timestamptz NOT NULL,
	updated_at  timestamptz NOT NULL,
	CHECK (status <> 'live' OR live_since IS NOT NULL)
);

CREATE INDEX rooms_created ON rooms (created_at, id);
CREATE INDEX rooms_owner ON rooms (owner_id, created_at, id);
CREATE INDEX rooms_status_live ON rooms (status, live_since, id);

-- payload is json, not jsonb: the bytes are signed and must come back
-- exactly as stored.
CREATE TABLE events (
	id         text COLLATE "C" PRIMARY KEY,
	type       text NOT NULL CHECK (type <> ''),
	payload    json NOT NULL,
	created_at timestamptz NOT NULL
);

CREATE INDEX events_created ON events (created_at);

CREATE TABLE deliveries (
	event_id        text COLLATE "C" NOT NULL REFERENCES events (id) ON DELETE CASCADE,
	url             text COLLATE "C" NOT NULL CHECK (url <> ''),
	attempts        integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
	next_attempt_at timestamptz NOT NULL,
	delivered_at    timestamptz,
	last_error      text NOT NULL DEFAULT '',
	PRIMARY KEY (event_id, url)
);

CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE delivered_at IS NULL;
CREATE INDEX deliveries_delivered ON deliveries (delivered_at) WHERE delivered_at IS NOT NULL;
