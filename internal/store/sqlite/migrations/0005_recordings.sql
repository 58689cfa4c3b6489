-- Recordings: one row per recorded live session; the media is on disk.

CREATE TABLE recordings (
	id          TEXT    PRIMARY KEY CHECK (id <> ''),
	room_id     TEXT    NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
	stream      TEXT    NOT NULL,
	status      TEXT    NOT NULL CHECK (status IN ('recording', 'ready', 'failed')),
	started_at  INTEGER NOT NULL,
	ended_at    INTEGER,
	duration_ms INTEGER NOT NULL DEFAULT 0 CHECK (duration_ms >= 0),
	bytes       INTEGER NOT NULL DEFAULT 0 CHECK (bytes >= 0),
	segments    INTEGER NOT NULL DEFAULT 0 CHECK (segments >= 0),
	recovered   INTEGER NOT NULL DEFAULT 0 CHECK (recovered IN (0, 1)),
	error       TEXT    NOT NULL DEFAULT ''
) STRICT;

CREATE INDEX recordings_room ON recordings (room_id, started_at DESC, id DESC);
CREATE INDEX recordings_started ON recordings (started_at DESC, id DESC);
CREATE INDEX recordings_active ON recordings (status) WHERE status = 'recording';
