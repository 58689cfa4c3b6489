-- The pinned announcement of a room's chat: kept here so that it survives
-- the room's last client leaving, restarts, and reaches every node.

CREATE TABLE chat_pins (
	room_id    text COLLATE "C" NOT NULL PRIMARY KEY REFERENCES rooms (id) ON DELETE CASCADE,
	text       text NOT NULL CHECK (text <> ''),
	updated_at timestamptz NOT NULL
);
