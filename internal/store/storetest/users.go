package storetest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"roomcast/internal/store"
)

func testCreateUser(t *testing.T, open Opener) {
	db := openFresh(t, open)
	ctx := t.Context()
	created := time.Date(2024, 1, 2, 3, 4, 5, 678912345, time.FixedZone("CST", 8*3600))
	for _, tc := range []struct {
		name string
		user store.User
		want error
	}{
		{"full", store.User{ID: "u1", Name: "alice", PasswordHash: "h", WeChatOpenID: "o1", WeChatUnionID: "un1", Role: store.RoleAdmin, CreatedAt: created}, nil},
		{"wechat only", store.User{ID: "u2", WeChatOpenID: "o2", WeChatUnionID: "un1"}, nil},
		{"second without name", store.User{ID: "u3", WeChatOpenID: "o3"}, nil},
		{"name and openid absent", store.User{ID: "u4"}, nil},
		{"banned", store.User{ID: "u5", Name: "eve", Banned: true}, nil},
		{"name taken", store.User{ID: "u6", Name: "alice"}, store.ErrConflict},
		{"openid taken", store.User{ID: "u7", WeChatOpenID: "o1"}, store.ErrConflict},
		{"id taken", store.User{ID: "u1", Name: "bob"}, store.ErrConflict},
		{"empty id", store.User{Name: "carol"}, errAny},
		{"bad role", store.User{ID: "u8", Role: "root"}, errAny},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := tc.user
			err := db.CreateUser(ctx, &u)
			checkErr(t, "CreateUser", err, tc.want)
			if err != nil {
				return
			}
			got, err := db.UserByID(ctx, u.ID)
			checkErr(t, "UserByID", err, nil)
			same(t, "stored user", got, &u)
			if tc.user.Role == "" && got.Role != store.RoleUser {
				t.Errorf("default role = %q", got.Role)
			}
			if tc.user.CreatedAt.IsZero() && !got.CreatedAt.Equal(t0) {
				t.Errorf("default CreatedAt = %v, want %v", got.CreatedAt, t0)
			}
		})
	}
	// CreatedAt comes back in UTC, truncated to the microsecond.
	u, err := db.UserByID(ctx, "u1")
	checkErr(t, "UserByID", err, nil)
	want := created.UTC().Truncate(time.Microsecond)
	if u.CreatedAt != want || u.CreatedAt.Location() != time.UTC {
		t.Errorf("CreatedAt = %v, want %v", u.CreatedAt, want)
	}
}

func testUserLookups(t *testing.T, open Opener) {
	db := openFresh(t, open)
	ctx := t.Context()
	alice := &store.User{ID: "u1", Name: "alice", WeChatOpenID: "open-a"}
	checkErr(t, "CreateUser", db.CreateUser(ctx, alice), nil)
	for _, tc := range []struct {
		name string
		get  func() (*store.User, error)
		want error
	}{
		{"by id", func() (*store.User, error) { return db.UserByID(ctx, "u1") }, nil},
		{"by name", func() (*store.User, error) { return db.UserByName(ctx, "alice") }, nil},
		{"by openid", func() (*store.User, error) { return db.UserByOpenID(ctx, "open-a") }, nil},
		{"missing id", func() (*store.User, error) { return db.UserByID(ctx, "u2") }, store.ErrNotFound},
		{"missing name", func() (*store.User, error) { return db.UserByName(ctx, "Alice") }, store.ErrNotFound},
		{"missing openid", func() (*store.User, error) { return db.UserByOpenID(ctx, "open-b") }, store.ErrNotFound},
		{"empty name", func() (*store.User, error) { return db.UserByName(ctx, "") }, store.ErrNotFound},
		{"empty openid", func() (*store.User, error) { return db.UserByOpenID(ctx, "") }, store.ErrNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u, err := tc.get()
			checkErr(t, "lookup", err, tc.want)
			if err == nil {
				same(t, "user", u, alice)
			}
		})
	}
}

func testListUsers(t *testing.T, open Opener) {
	db := openFresh(t, open)
	ctx := t.Context()
	// Seven users; u3, u4 and u5 share a creation time, so the ID breaks ties.
	offsets := map[string]time.Duration{"u1": 0, "u2": time.Second, "u5": 2 * time.Second, "u3": 2 * time.Second,
		"u4": 2 * time.Second, "u6": 3 * time.Second, "u7": 4 * time.Second}
	for _, id := range []string{"u7", "u5", "u1", "u3", "u2", "u6", "u4"} {
		mustUser(t, db, id, offsets[id])
	}
	all := []string{"u1", "u2", "u3", "u4", "u5", "u6", "u7"}

	for _, tc := range []struct {
		limit int
		pages []int
	}{
		{1, []int{1, 1, 1, 1, 1, 1, 1}},
		{3, []int{3, 3, 1}},
		{7, []int{7}},
		{0, []int{7}}, // default page size
		{100, []int{7}},
	} {
		t.Run(fmt.Sprint("limit ", tc.limit), func(t *testing.T) {
			var ids []string
			var sizes []int
			cursor := ""
			for {
				users, next, err := db.ListUsers(ctx, cursor, tc.limit)
				checkErr(t, "ListUsers", err, nil)
				sizes = append(sizes, len(users))
				for _, u := range users {
					ids = append(ids, u.ID)
				}
				if next == "" {
					break
				}
				cursor = next
			}
			same(t, "ids", ids, all)
			same(t, "page sizes", sizes, tc.pages)
		})
	}

	t.Run("rows added between pages", func(t *testing.T) {
		first, next, err := db.ListUsers(ctx, "", 3)
		checkErr(t, "ListUsers", err, nil)
		mustUser(t, db, "u0", -time.Hour) // sorts before the cursor: not seen
		mustUser(t, db, "u8", time.Hour)  // sorts after: seen at the end
		rest, next2, err := db.ListUsers(ctx, next, 100)
		checkErr(t, "ListUsers", err, nil)
		var ids []string
		for _, u := range slices.Concat(first, rest) {
			ids = append(ids, u.ID)
		}
		same(t, "ids", ids, append(slices.Clone(all), "u8"))
		if next2 != "" {
			t.Errorf("next after the last page = %q", next2)
		}
	})

	t.Run("bad cursors", func(t *testing.T) {
		_, roomCursor, err := listRoomsCursor(t, db)
		checkErr(t, "ListRooms", err, nil)
		for _, c := range []string{"garbage!", "dXNlcnM", roomCursor} {
			_, _, err := db.ListUsers(ctx, c, 2)
			checkErr(t, "ListUsers("+c+")", err, store.ErrInvalidCursor)
		}
	})
}

// listRoomsCursor makes two rooms and returns a ListRooms cursor.
func listRoomsCursor(t *testing.T, db Store) ([]store.Room, string, error) {
	mustRoom(t, db, "rc1", "u1", 0)
	mustRoom(t, db, "rc2", "u1", time.Second)
	return db.ListRooms(t.Context(), store.RoomFilter{Limit: 1})
}

func testBanAndCountAdmins(t *testing.T, open Opener) {
	db := openFresh(t, open)
	ctx := t.Context()
	count := func() int {
		t.Helper()
		n, err := db.CountAdmins(ctx)
		checkErr(t, "CountAdmins", err, nil)
		return n
	}
	if n := count(); n != 0 {
		t.Fatalf("empty database: %d admins", n)
	}
	for _, u := range []store.User{{ID: "a1", Role: store.RoleAdmin}, {ID: "a2", Role: store.RoleAdmin}, {ID: "u1"}} {
		checkErr(t, "CreateUser", db.CreateUser(ctx, &u), nil)
	}
	for _, tc := range []struct {
		id         string
		banned     bool
		want       error
		wantAdmins int
	}{
		{"u1", true, nil, 2},
		{"a1", true, nil, 1},
		{"a1", true, nil, 1}, // again: no change
		{"a2", true, nil, 0},
		{"a1", false, nil, 1},
		{"ghost", true, store.ErrNotFound, 1},
	} {
		err := db.SetUserBanned(ctx, tc.id, tc.banned)
		checkErr(t, fmt.Sprintf("SetUserBanned(%s, %v)", tc.id, tc.banned), err, tc.want)
		if err == nil {
			u, err := db.UserByID(ctx, tc.id)
			checkErr(t, "UserByID", err, nil)
			if u.Banned != tc.banned {
				t.Errorf("%s: Banned = %v, want %v", tc.id, u.Banned, tc.banned)
			}
		}
		if n := count(); n != tc.wantAdmins {
			t.Errorf("after SetUserBanned(%s, %v): %d admins, want %d", tc.id, tc.banned, n, tc.wantAdmins)
		}
	}
}

func testDeleteUserCascades(t *testing.T, open Opener) {
	db := openFresh(t, open)
	ctx := t.Context()
	mustUser(t, db, "u1", 0)
	mustUser(t, db, "u2", 0)
	for _, s := range []store.Session{{TokenHash: "h1", UserID: "u1"}, {TokenHash: "h2", UserID: "u2"}} {
		s.ExpiresAt = t0.Add(time.Hour)
		checkErr(t, "CreateSession", db.CreateSession(ctx, &s), nil)
	}
	mustRoom(t, db, "r1", "u1", 0)
	mustRoom(t, db, "r2", "u2", 0)

	checkErr(t, "DeleteUser", db.DeleteUser(ctx, "u1"), nil)
	checkErr(t, "DeleteUser again", db.DeleteUser(ctx, "u1"), store.ErrNotFound)
	_, err := db.UserByID(ctx, "u1")
	checkErr(t, "deleted user", err, store.ErrNotFound)
	_, err = db.SessionByTokenHash(ctx, "h1", t0)
	checkErr(t, "deleted user's session", err, store.ErrNotFound)
	_, err = db.RoomByID(ctx, "r1")
	checkErr(t, "deleted user's room", err, store.ErrNotFound)
	_, err = db.SessionByTokenHash(ctx, "h2", t0)
	checkErr(t, "other user's session", err, nil)
	_, err = db.RoomByID(ctx, "r2")
	checkErr(t, "other user's room", err, nil)
}

func testUserNamesAreExact(t *testing.T, open Opener) {
	db := openFresh(t, open)
	ctx := t.Context()
	checkErr(t, "alice", db.CreateUser(ctx, &store.User{ID: "u1", Name: "alice"}), nil)
	// Normalizing names is the user package's job; the store compares bytes.
	checkErr(t, "Alice", db.CreateUser(ctx, &store.User{ID: "u2", Name: strings.ToUpper("alice")}), nil)
}
