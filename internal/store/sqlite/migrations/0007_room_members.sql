-- Room members: the co-hosts of a room (its host is the owner, not a row).

CREATE TABLE room_members (
	room_id  TEXT    NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
	user_id  TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	added_at INTEGER NOT NULL,
	PRIMARY KEY (room_id, user_id)
) STRICT;

CREATE INDEX room_members_user ON room_members (user_id);
