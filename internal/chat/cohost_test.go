package chat

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"roomcast/internal/room"
	"roomcast/internal/store"
)

// memberDB is the part of the test store the co-host tests use.
type memberDB interface {
	AddCohost(ctx context.Context, roomID, userID string, max int, at time.Time) (*store.Member, error)
	IsCohost(ctx context.Context, roomID, userID string) (bool, error)
}

// members returns the env's store as a memberDB.
func (e *env) members() memberDB {
	db, ok := e.db.(memberDB)
	if !ok {
		e.t.Fatalf("the test store %T has no co-host methods", e.db)
	}
	return db
}

// storeCohosts is the app's Cohosts over the store: room managers may add
// up to max co-hosts, and an added one is announced.
type storeCohosts struct {
	e   *env
	max int
}

func (c storeCohosts) Accept(ctx context.Context, actor *store.User, roomID, userID string) (bool, error) {
	rm, err := c.e.db.RoomByID(ctx, roomID)
	if err != nil {
		return false, err
	}
	if !room.CanManage(actor, rm) {
		return false, room.ErrForbidden
	}
	_, err = c.e.members().AddCohost(ctx, roomID, userID, c.max, time.Now())
	switch {
	case errors.Is(err, store.ErrConflict):
		return false, nil
	case errors.Is(err, store.ErrLimit):
		return false, room.ErrTooManyCohosts
	case err != nil:
		return false, err
	}
	return true, c.e.srv.MemberEvent(ctx, roomID, MemberJoined, userID, "", map[string]string{"stream": rm.Stream + "-" + userID})
}

func (c storeCohosts) IsCohost(ctx context.Context, roomID, userID string) (bool, error) {
	return c.e.members().IsCohost(ctx, roomID, userID)
}

// cohostEnv is a chat env with co-host requests on.
func cohostEnv(t *testing.T, ttl time.Duration, max int) *env {
	e := newEnv(t, Config{CohostRequestTTL: ttl})
	e.srv.cohosts = storeCohosts{e: e, max: max}
	return e
}

// cohostFrame is a co-host or member frame.
type cohostFrame struct {
	Type      string   `json:"type"`
	User      userView `json:"user"`
	Answer    string   `json:"answer"`
	ExpiresAt int64    `json:"expires_at"`
	Member    struct {
		Stream string `json:"stream"`
	} `json:"member"`
}

func decodeCohost(t *testing.T, f frame) cohostFrame {
	t.Helper()
	var cf cohostFrame
	if err := json.Unmarshal(f.Raw, &cf); err != nil {
		t.Fatal(err)
	}
	return cf
}

func TestCohostRequestAccept(t *testing.T) {
	e := cohostEnv(t, time.Minute, 3)
	owner, _ := e.join("r1", "t-owner")
	alice, _ := e.join("r1", "t-alice")
	bob, _ := e.join("r1", "t-bob")
	guest, _ := e.join("r1", "")

	guest.send(map[string]any{"type": "cohost_request"})
	if f := guest.expect("error"); f.Code != codeUnauthorized {
		t.Errorf("guest request: %s", f.Raw)
	}
	start := time.Now()
	alice.send(map[string]any{"type": "cohost_request"})
	req := decodeCohost(t, owner.expect("cohost_request"))
	if req.User.ID != "u-alice" || req.User.Name != "alice" || req.ExpiresAt < start.Add(50*time.Second).UnixMilli() {
		t.Errorf("host got %+v", req)
	}
	if f := decodeCohost(t, alice.expect("cohost_request")); f.User.ID != "u-alice" {
		t.Errorf("requester got %+v", f)
	}
	alice.send(map[string]any{"type": "cohost_request"})
	if f := alice.expect("error"); f.Code != codeBadRequest {
		t.Errorf("second request: %s", f.Raw)
	}
	// Only managers answer.
	bob.send(map[string]any{"type": "cohost_accept", "user_id": "u-alice"})
	if f := bob.expect("error"); f.Code != codeForbidden {
		t.Errorf("bob accepts: %s", f.Raw)
	}
	owner.send(map[string]any{"type": "cohost_accept", "user_id": "u-bob"})
	if f := owner.expect("error"); f.Code != codeNotFound {
		t.Errorf("accepting a request never made: %s", f.Raw)
	}
	owner.send(map[string]any{"type": "cohost_accept", "user_id": "u-alice"})
	for _, c := range []*wsClient{alice, owner} {
		got := expectAll(t, c, "cohost_answer", MemberJoined)
		if a := got["cohost_answer"]; a.Answer != AnswerAccepted || a.User.ID != "u-alice" {
			t.Errorf("answer %+v", a)
		}
		if m := got[MemberJoined]; m.Member.Stream != "s1-u-alice" {
			t.Errorf("member_joined %+v", m)
		}
	}
	for _, c := range []*wsClient{bob, guest} {
		if m := decodeCohost(t, c.expect(MemberJoined)); m.Member.Stream != "s1-u-alice" {
			t.Errorf("member_joined %+v", m)
		}
	}
	if ok, _ := e.members().IsCohost(t.Context(), "r1", "u-alice"); !ok {
		t.Errorf("alice is no co-host after the accept")
	}
	// A co-host asks no more.
	alice.send(map[string]any{"type": "cohost_request"})
	if f := alice.expect("error"); f.Code != codeBadRequest {
		t.Errorf("co-host asks again: %s", f.Raw)
	}
	// Bob never saw alice's request or its answer.
	bob.send(map[string]any{"type": "ping"})
	for {
		f, err := bob.read()
		if err != nil {
			t.Fatal(err)
		}
		if f.Type == "cohost_request" || f.Type == "cohost_answer" {
			t.Errorf("bob got %s", f.Raw)
		}
		if f.Type == "pong" {
			break
		}
	}
}

// expectAll reads c until it got one frame of each type, in any order.
func expectAll(t *testing.T, c *wsClient, types ...string) map[string]cohostFrame {
	t.Helper()
	got := map[string]cohostFrame{}
	for len(got) < len(types) {
		f, err := c.read()
		if err != nil {
			t.Fatalf("waiting for %v (got %v): %v", types, got, err)
		}
		for _, typ := range types {
			if f.Type == typ {
				got[typ] = decodeCohost(t, f)
			}
		}
	}
	return got
}

func TestCohostRejectCancelExpire(t *testing.T) {
	e := cohostEnv(t, 300*time.Millisecond, 3)
	owner, _ := e.join("r1", "t-owner")
	alice, _ := e.join("r1", "t-alice")
	bob, _ := e.join("r1", "t-bob")

	alice.send(map[string]any{"type": "cohost_request"})
	owner.expect("cohost_request")
	owner.send(map[string]any{"type": "cohost_reject", "user_id": "u-alice"})
	if a := decodeCohost(t, alice.expect("cohost_answer")); a.Answer != AnswerRejected {
		t.Errorf("alice told %+v", a)
	}
	owner.expect("cohost_answer")

	bob.send(map[string]any{"type": "cohost_request"})
	owner.expect("cohost_request")
	bob.send(map[string]any{"type": "cohost_cancel"})
	if a := decodeCohost(t, owner.expect("cohost_answer")); a.Answer != AnswerCancelled || a.User.ID != "u-bob" {
		t.Errorf("host told %+v", a)
	}

	alice.send(map[string]any{"type": "cohost_request"})
	owner.expectWhere("cohost_request", func(f frame) bool { return f.User != nil && f.User.ID == "u-alice" })
	if a := decodeCohost(t, alice.expect("cohost_answer")); a.Answer != AnswerExpired {
		t.Errorf("alice told %+v", a)
	}
	if a := decodeCohost(t, owner.expect("cohost_answer")); a.Answer != AnswerExpired {
		t.Errorf("host told %+v", a)
	}
	owner.send(map[string]any{"type": "cohost_accept", "user_id": "u-alice"})
	if f := owner.expect("error"); f.Code != codeNotFound {
		t.Errorf("accepting an expired request: %s", f.Raw)
	}
	if ok, _ := e.members().IsCohost(t.Context(), "r1", "u-alice"); ok {
		t.Errorf("an expired request made alice a co-host")
	}
}

func TestCohostRequestRefused(t *testing.T) {
	e := cohostEnv(t, time.Minute, 1)
	owner, _ := e.join("r1", "t-owner")
	alice, _ := e.join("r1", "t-alice")
	bob, _ := e.join("r1", "t-bob")

	owner.send(map[string]any{"type": "cohost_request"})
	if f := owner.expect("error"); f.Code != codeBadRequest {
		t.Errorf("the host asks: %s", f.Raw)
	}
	// Muted: refused.
	owner.send(map[string]any{"type": "mute", "user_id": "u-bob", "seconds": 60})
	bob.expect("muted")
	bob.send(map[string]any{"type": "cohost_request"})
	if f := bob.expect("error"); f.Code != codeMuted {
		t.Errorf("muted request: %s", f.Raw)
	}
	// Banned (the sanction stored while still connected): refused.
	until := time.Now().Add(time.Hour)
	if err := e.db.PutChatSanction(t.Context(), &store.ChatSanction{RoomID: "r1", UserID: "u-alice", Kind: store.SanctionBan, Until: &until, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	alice.send(map[string]any{"type": "cohost_request"})
	if f := alice.expect("error"); f.Code != codeForbidden {
		t.Errorf("banned request: %s", f.Raw)
	}
	// A banned user who joins again is refused at the door.
	again := e.dial("r1", "t-alice", "")
	if f := again.expect("error"); f.Code != "banned" {
		t.Errorf("rejoin: %s", f.Raw)
	}
	// The limit: the accept fails with too_many_cohosts.
	if _, err := e.members().AddCohost(t.Context(), "r1", "u-bob", 1, time.Now()); err != nil {
		t.Fatal(err)
	}
	owner.send(map[string]any{"type": "unmute", "user_id": "u-bob"})
	if err := e.db.DeleteChatSanction(t.Context(), "r1", "u-alice", store.SanctionBan); err != nil {
		t.Fatal(err)
	}
	alice.send(map[string]any{"type": "cohost_request"})
	owner.expectWhere("cohost_request", func(f frame) bool { return f.User != nil && f.User.ID == "u-alice" })
	owner.send(map[string]any{"type": "cohost_accept", "user_id": "u-alice"})
	if f := owner.expect("error"); f.Code != codeTooManyCohosts {
		t.Errorf("accept past the limit: %s", f.Raw)
	}
}

// A manager who opens the chat after a viewer asked sees the request
// waiting; the requester sees its own on reconnecting; others see none.
func TestCohostRequestPendingOnJoin(t *testing.T) {
	e := cohostEnv(t, time.Minute, 3)
	alice, _ := e.join("r1", "t-alice")
	alice.send(map[string]any{"type": "cohost_request"})
	alice.expect("cohost_request")

	owner, _ := e.join("r1", "t-owner")
	if f := decodeCohost(t, owner.expect("cohost_request")); f.User.ID != "u-alice" || f.User.Name != "alice" || f.ExpiresAt == 0 {
		t.Errorf("late host got %+v", f)
	}
	again, _ := e.join("r1", "t-alice")
	if f := decodeCohost(t, again.expect("cohost_request")); f.User.ID != "u-alice" {
		t.Errorf("requester reconnecting got %+v", f)
	}
	bob, _ := e.join("r1", "t-bob")
	noRequestBeforeChat(t, bob, "bob saw alice's request")

	// Answered, it is no longer shown to who joins next.
	owner.send(map[string]any{"type": "cohost_reject", "user_id": "u-alice"})
	owner.expect("cohost_answer")
	late, _ := e.join("r1", "t-owner")
	noRequestBeforeChat(t, late, "an answered request was shown")
}

// noRequestBeforeChat sends a chat message from c and fails the test if a
// cohost_request frame reaches c before its own message comes back.
func noRequestBeforeChat(t *testing.T, c *wsClient, what string) {
	t.Helper()
	c.send(map[string]any{"type": "chat", "text": "probe"})
	for {
		f, err := c.read()
		if err != nil {
			t.Fatal(err)
		}
		switch f.Type {
		case "cohost_request":
			t.Fatalf("%s: %s", what, f.Raw)
		case "chat":
			return
		}
	}
}
