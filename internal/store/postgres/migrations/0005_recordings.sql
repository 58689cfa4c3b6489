-- Recordings: one row per recorded live session; the media is on disk.

CREATE TABLE recordings (
	id          text COLLATE "C" PRIMARY KEY CHECK (id <> ''),
	room_id     text COLLATE "C" NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
	stream      text NOT NULL,
	status      text NOT NULL CHECK (status IN ('recording', 'ready', 'failed')),
	started_at  timestamptz NOT NULL,
	ended_at    timestamptz,
	duration_ms bigint NOT NULL DEFAULT 0 CHECK (duration_ms >= 0),
	bytes       bigint NOT NULL DEFAULT 0 CHECK (bytes >= 0),
	segments    integer NOT NULL DEFAULT 0 CHECK (segments >= 0),
	recovered   boolean NOT NULL DEFAULT false,
	error       text NOT NULL DEFAULT ''
);

CREATE INDEX recordings_room ON recordings (room_id, started_at DESC, id DESC);
CREATE INDEX recordings_started ON recordings (started_at DESC, id DESC);
CREATE INDEX recordings_active ON recordings (status) WHERE status = 'recording';
