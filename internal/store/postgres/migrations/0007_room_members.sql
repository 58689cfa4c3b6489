-- Room members: the co-hosts of a room (its host is the owner, not a row).

CREATE TABLE room_members (
	room_id  text COLLATE "C" NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
	user_id  text COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	added_at timestamptz NOT NULL,
	PRIMARY KEY (room_id, user_id)
);

CREATE INDEX room_members_user ON room_members (user_id);
