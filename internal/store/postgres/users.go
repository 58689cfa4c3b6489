package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"roomcast/internal/store"
	"roomcast/internal/store/internal/page"
)

const userCols = `id, name, password_hash, wechat_openid, wechat_unionid, role, banned, created_at`

// cursorUsers is the cursor kind of ListUsers (the same as store/sqlite's).
const cursorUsers = "users"

func scanUser(s rowScanner) (*store.User, error) {
	var (
		u                 store.User
		name, open, union *string
	)
	if err := s.Scan(&u.ID, &name, &u.PasswordHash, &open, &union, &u.Role, &u.Banned, &u.CreatedAt); err != nil {
		return nil, err
	}
	u.Name, u.WeChatOpenID, u.WeChatUnionID = deref(name), deref(open), deref(union)
	u.CreatedAt = u.CreatedAt.UTC()
	return &u, nil
}

// CreateUser inserts u. u.ID must be set; an empty Role becomes
// store.RoleUser and a zero CreatedAt the current time, and CreatedAt is
// truncated to the microsecond, all written back into u. It fails with
// store.ErrConflict when the ID, name or WeChat openid is taken.
func (db *DB) CreateUser(ctx context.Context, u *store.User) error {
	if u.ID == "" {
		return errors.New("postgres: create user: empty id")
	}
	if u.Role == "" {
		u.Role = store.RoleUser
	}
	if !store.ValidRole(u.Role) {
		return fmt.Errorf("postgres: create user %q: invalid role %q", u.ID, u.Role)
	}
	if u.CreatedAt.IsZero() {
		u.CreatedAt = db.now()
	}
	u.CreatedAt = trunc(u.CreatedAt)
	_, err := db.pool.Exec(ctx, `INSERT INTO users (`+userCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		u.ID, nullString(u.Name), u.PasswordHash, nullString(u.WeChatOpenID), nullString(u.WeChatUnionID),
		u.Role, u.Banned, u.CreatedAt)
	if err != nil {
		return fmt.Errorf("postgres: create user %q: %w", u.ID, mapErr(err))
	}
	return nil
}

// userBy returns the one user where col = v, or store.ErrNotFound.
func (db *DB) userBy(ctx context.Context, col, v string) (*store.User, error) {
	if v == "" {
		return nil, fmt.Errorf("postgres: user by %s %q: %w", col, v, store.ErrNotFound)
	}
	u, err := scanUser(db.pool.QueryRow(ctx, `SELECT `+userCols+` FROM users WHERE `+col+` = $1`, v))
	if err != nil {
		return nil, fmt.Errorf("postgres: user by %s %q: %w", col, v, mapErr(err))
	}
	return u, nil
}

// UserByID returns the user with the given ID, or store.ErrNotFound.
func (db *DB) UserByID(ctx context.Context, id string) (*store.User, error) {
	return db.userBy(ctx, "id", id)
}

// UserByName returns the user with the given name, or store.ErrNotFound.
func (db *DB) UserByName(ctx context.Context, name string) (*store.User, error) {
	return db.userBy(ctx, "name", name)
}

// UserByOpenID returns the user with the given WeChat openid, or
// store.ErrNotFound.
func (db *DB) UserByOpenID(ctx context.Context, openID string) (*store.User, error) {
	return db.userBy(ctx, "wechat_openid", openID)
}

// ListUsers returns a page of users, oldest first (by CreatedAt, then ID),
// starting after cursor ("" for the first page). next is the cursor of the
// following page, or "" after the last page. A cursor that ListUsers did not
// produce fails with store.ErrInvalidCursor.
func (db *DB) ListUsers(ctx context.Context, cursor string, limit int) (users []store.User, next string, err error) {
	n := page.Limit(limit)
	q := `SELECT ` + userCols + ` FROM users`
	var args []any
	if cursor != "" {
		at, id, err := page.Decode(cursorUsers, cursor)
		if err != nil {
			return nil, "", fmt.Errorf("postgres: list users: %w", err)
		}
		q += ` WHERE (created_at, id) > ($1, $2)`
		args = append(args, fromMicros(at), id)
	}
	q += fmt.Sprintf(` ORDER BY created_at, id LIMIT $%d`, len(args)+1)
	args = append(args, n+1)
	users, err = queryAll(ctx, db, q, args, scanUser)
	if err != nil {
		return nil, "", fmt.Errorf("postgres: list users: %w", err)
	}
	if len(users) > n {
		users = users[:n]
		last := users[n-1]
		next = page.Encode(cursorUsers, last.CreatedAt, last.ID)
	}
	return users, next, nil
}

// SetUserBanned sets whether the user is banned, or fails with
// store.ErrNotFound. It does not end the user's sessions: callers banning a
// user also call DeleteUserSessions.
func (db *DB) SetUserBanned(ctx context.Context, id string, banned bool) error {
	tag, err := db.pool.Exec(ctx, `UPDATE users SET banned = $1 WHERE id = $2`, banned, id)
	if err == nil {
		err = affected(tag)
	}
	if err != nil {
		return fmt.Errorf("postgres: set user %q banned: %w", id, mapErr(err))
	}
	return nil
}

// CountAdmins returns the number of admins who are not banned, so that the
// user package can refuse to ban or demote the last one and can make the
// first account an admin.
func (db *DB) CountAdmins(ctx context.Context) (int, error) {
	var n int
	err := db.pool.QueryRow(ctx, `SELECT count(*) FROM users WHERE role = 'admin' AND NOT banned`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("postgres: count admins: %w", mapErr(err))
	}
	return n, nil
}

// DeleteUser deletes the user and, through the foreign keys, their sessions
// and rooms. It fails with store.ErrNotFound if there is no such user.
func (db *DB) DeleteUser(ctx context.Context, id string) error {
	tag, err := db.pool.Exec(ctx, `DELETE FROM users WHERE id = $1`, id)
	if err == nil {
		err = affected(tag)
	}
	if err != nil {
		return fmt.Errorf("postgres: delete user %q: %w", id, mapErr(err))
	}
	return nil
}

// querier is the pool or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// queryAll runs q and scans every row with scan. Errors are mapped.
func queryAll[T any](ctx context.Context, db *DB, q string, args []any, scan func(rowScanner) (*T, error)) ([]T, error) {
	return queryAllOn(ctx, db.pool, q, args, scan)
}

// queryAllOn is queryAll on a given querier.
func queryAllOn[T any](ctx context.Context, on querier, q string, args []any, scan func(rowScanner) (*T, error)) ([]T, error) {
	rows, err := on.Query(ctx, q, args...)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, mapErr(err)
		}
		out = append(out, *v)
	}
	if err := rows.Err(); err != nil {
		return nil, mapErr(err)
	}
	return out, nil
}
