-- Room covers: the last live cover of a room and the one its host uploaded,
-- each a JPEG re-encoded by the server.

CREATE TABLE room_covers (
	room_id    TEXT    NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
	source     TEXT    NOT NULL CHECK (source IN ('upload', 'live')),
	jpeg       BLOB    NOT NULL CHECK (length(jpeg) > 0),
	width      INTEGER NOT NULL CHECK (width > 0),
	height     INTEGER NOT NULL CHECK (height > 0),
	updated_at INTEGER NOT NULL,
	PRIMARY KEY (room_id, source)
) STRICT;
