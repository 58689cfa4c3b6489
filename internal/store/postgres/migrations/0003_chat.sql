-- Live-room chat: messages (numbered per room by seq, soft-deleted) and the
-- mutes, kicks and bans a room's moderators impose.

CREATE TABLE chat_messages (
	room_id    text COLLATE "C" NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
	seq        bigint NOT NULL CHECK (seq > 0),
	id         text NOT NULL UNIQUE CHECK (id <> ''),
	user_id    text NOT NULL,
	user_name  text NOT NULL DEFAULT '',
	text       text NOT NULL,
	created_at timestamptz NOT NULL,
	deleted_at timestamptz,
	PRIMARY KEY (room_id, seq)
);

CREATE TABLE chat_sanctions (
	room_id    text COLLATE "C" NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
	user_id    text NOT NULL,
	kind       text COLLATE "C" NOT NULL CHECK (kind IN ('mute', 'kick', 'ban')),
	until      timestamptz,
	created_at timestamptz NOT NULL,
	PRIMARY KEY (room_id, user_id, kind)
);
