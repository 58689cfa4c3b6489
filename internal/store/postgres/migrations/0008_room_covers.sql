-- Room covers: the last live cover of a room and the one its host uploaded,
-- each a JPEG re-encoded by the server.

CREATE TABLE room_covers (
	room_id    text COLLATE "C" NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
	source     text NOT NULL CHECK (source IN ('upload', 'live')),
	jpeg       bytea NOT NULL CHECK (length(jpeg) > 0),
	width      integer NOT NULL CHECK (width > 0),
	height     integer NOT NULL CHECK (height > 0),
	updated_at timestamptz NOT NULL,
	PRIMARY KEY (room_id, source)
);
