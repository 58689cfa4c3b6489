-- Live-room chat: messages (numbered per room by seq, soft-deleted) and the
-- mutes, kicks and bans a room's moderators impose.

CREATE TABLE chat_messages (
	room_id    TEXT    NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
	seq        INTEGER NOT NULL CHECK (seq > 0),
	id         TEXT    NOT NULL UNIQUE CHECK (id <> ''),
	user_id    TEXT    NOT NULL,
	user_name  TEXT    NOT NULL DEFAULT '',
	text       TEXT    NOT NULL,
	created_at INTEGER NOT NULL,
	deleted_at INTEGER,
	PRIMARY KEY (room_id, seq)
) STRICT, WITHOUT ROWID;

CREATE TABLE chat_sanctions (
	room_id    TEXT    NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
	user_id    TEXT    NOT NULL,
	kind       TEXT    NOT NULL CHECK (kind IN ('mute', 'kick', 'ban')),
	until      INTEGER,
	created_at INTEGER NOT NULL,
	PRIMARY KEY (room_id, user_id, kind)
) STRICT, WITHOUT ROWID;
