package chat

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"roomcast/internal/store"
)

// The wire format, apart from the connection lifecycle: what clients send,
// what the server sends, and the text rules. See docs/chat.md.

// Client frame types.
const (
	typeChat   = "chat"
	typeLike   = "like"
	typeMute   = "mute"
	typeUnmute = "unmute"
	typeKick   = "kick"
	typeBan    = "ban"
	typeUnban  = "unban"
	typeDelete = "delete"
	typePin    = "pin"
	typeUnpin  = "unpin"
	typePing   = "ping"
)

// Error codes of error frames.
const (
	codeBadRequest   = "bad_request"
	codeUnauthorized = "unauthorized"
	codeForbidden    = "forbidden"
	codeMuted        = "muted"
	codeRateLimited  = "rate_limited"
	codeTooLong      = "too_long"
	codeEmpty        = "empty"
	codeNotFound     = "not_found"
	codeInternal     = "internal"
	codeUnavailable  = "unavailable" // the database cannot be reached (store.ErrUnavailable)
)

// inFrame is any client frame; fields not used by Type are ignored.
type inFrame struct {
	Type      string `json:"type"`
	Text      string `json:"text,omitempty"`
	Count     int    `json:"count,omitempty"`
	UserID    string `json:"user_id,omitempty"`
	Seconds   int    `json:"seconds,omitempty"`
	MessageID string `json:"message_id,omitempty"`
}

// parseFrame decodes one client frame. It accepts one JSON object with a
// non-empty string type; unknown fields are ignored.
func parseFrame(b []byte) (inFrame, error) {
	var f inFrame
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&f); err != nil {
		return f, fmt.Errorf("invalid JSON frame: %w", err)
	}
	if dec.More() {
		return f, fmt.Errorf("invalid JSON frame: trailing data")
	}
	if f.Type == "" {
		return f, fmt.Errorf("frame has no type")
	}
	return f, nil
}

// userView is the public part of a user in frames.
type userView struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// chatFrame is a chat message as sent to clients, alone or in history.
type chatFrame struct {
	Type string   `json:"type"`
	ID   string   `json:"id"`
	Seq  int64    `json:"seq"`
	User userView `json:"user"`
	Text string   `json:"text"`
	TS   int64    `json:"ts"` // Unix milliseconds
}

func encodeChat(m *store.ChatMessage) []byte {
	return mustJSON(chatFrame{Type: typeChat, ID: m.ID, Seq: m.Seq, User: userView{m.UserID, m.UserName}, Text: m.Text, TS: m.CreatedAt.UnixMilli()})
}

// welcomeFrame is the first frame of a connection.
type welcomeFrame struct {
	Type        string    `json:"type"` // "welcome"
	Room        string    `json:"room"`
	User        *userView `json:"user"` // null for guests
	CanSend     bool      `json:"can_send"`
	CanModerate bool      `json:"can_moderate"`
	MutedUntil  int64     `json:"muted_until,omitempty"` // Unix ms
	Likes       int64     `json:"likes"`
	Online      int       `json:"online"`
	Viewers     int       `json:"viewers"`
	Pinned      string    `json:"pinned,omitempty"`
	LastSeq     int64     `json:"last_seq"`
}

// historyFrame carries chat frames, oldest first, encoded already.
func encodeHistory(frames [][]byte, resumed, truncated bool) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, `{"type":"history","resumed":%t,"truncated":%t,"messages":[`, resumed, truncated)
	for i, f := range frames {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(f)
	}
	b.WriteString("]}")
	return b.Bytes()
}

type likesFrame struct {
	Type  string `json:"type"`
	Total int64  `json:"total"`
}

type presenceFrame struct {
	Type    string `json:"type"`
	Online  int    `json:"online"`
	Viewers int    `json:"viewers"`
}

// Notice kinds.
const (
	NoticeStreamStarted = "stream_started"
	NoticeStreamEnded   = "stream_ended"
	NoticePinned        = "pinned"
	NoticeUnpinned      = "unpinned"
	NoticeRoomDeleted   = "room_deleted"
)

type noticeFrame struct {
	Type string `json:"type"`
	Kind string `json:"kind"`
	Text string `json:"text,omitempty"`
}

type deletedFrame struct {
	Type string `json:"type"`
	ID   string `json:"id"`
	Seq  int64  `json:"seq"`
}

// sanctionFrame tells a user it was muted, unmuted, kicked or banned.
type sanctionFrame struct {
	Type  string `json:"type"` // muted, unmuted, kicked, banned
	Until int64  `json:"until,omitempty"`
}

type errorFrame struct {
	Type    string `json:"type"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

func encodeError(code, msg string) []byte {
	return mustJSON(errorFrame{Type: "error", Code: code, Message: msg})
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only fixed frame types are encoded
	}
	return b
}

func unixMilli(t *time.Time) int64 {
	if t == nil {
		return 0
	}
	return t.UnixMilli()
}

// textFilter checks message length and masks sensitive words.
type textFilter struct {
	maxLen int
	words  [][]rune // lower-cased, non-empty
}

func newTextFilter(maxLen int, words []string) *textFilter {
	f := &textFilter{maxLen: maxLen}
	for _, w := range words {
		w = strings.TrimSpace(w)
		if w != "" {
			f.words = append(f.words, []rune(strings.ToLower(w)))
		}
	}
	return f
}

// clean trims text, checks it is 1..maxLen runes of valid UTF-8 without
// control characters other than newlines and tabs, and masks the sensitive
// words in it.
func (f *textFilter) clean(text string) (string, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return "", invalid(codeEmpty, "the message is empty")
	}
	if !utf8.ValidString(text) {
		return "", invalid(codeBadRequest, "the message is not valid UTF-8")
	}
	n := utf8.RuneCountInString(text)
	if n > f.maxLen {
		return "", invalid(codeTooLong, "the message is %d characters long; at most %d are allowed", n, f.maxLen)
	}
	if strings.ContainsFunc(text, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' }) {
		return "", invalid(codeBadRequest, "the message contains control characters")
	}
	return f.mask(text), nil
}

// mask replaces each rune of every sensitive word found in text
// (case-insensitively) with '*'.
func (f *textFilter) mask(text string) string {
	if len(f.words) == 0 {
		return text
	}
	rs := []rune(text)
	lower := make([]rune, len(rs))
	for i, r := range rs {
		lower[i] = unicode.ToLower(r)
	}
	masked := false
	for _, w := range f.words {
		for i := 0; i+len(w) <= len(lower); i++ {
			if runesEqual(lower[i:i+len(w)], w) {
				for j := i; j < i+len(w); j++ {
					rs[j] = '*'
				}
				masked = true
			}
		}
	}
	if !masked {
		return text
	}
	return string(rs)
}

func runesEqual(a, b []rune) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
