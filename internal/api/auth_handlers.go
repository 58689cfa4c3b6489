package api

import (
	"net/http"

	"roomcast/internal/httpx"
	"roomcast/internal/store"
	"roomcast/internal/user"
)

// credentials is the body of register and login.
type credentials struct {
	Name     string `json:"name"`
	Password string `json:"password"`
}

func writeLogin(w http.ResponseWriter, status int, l *user.Login) {
	httpx.WriteJSON(w, status, loginView{Token: l.Token, ExpiresAt: l.ExpiresAt, User: newUserView(l.User), Created: l.Created})
}

// register: POST /auth/register {name, password} → 201 {token, expires_at, user, created}.
func (a *API) register(w http.ResponseWriter, r *http.Request, _ *store.User) error {
	var in credentials
	if err := a.decodeJSON(w, r, &in); err != nil {
		return err
	}
	l, err := a.users.Register(r.Context(), in.Name, in.Password)
	if err != nil {
		return err
	}
	writeLogin(w, http.StatusCreated, l)
	return nil
}

// login: POST /auth/login {name, password} → {token, expires_at, user, created}.
func (a *API) login(w http.ResponseWriter, r *http.Request, _ *store.User) error {
	var in credentials
	if err := a.decodeJSON(w, r, &in); err != nil {
		return err
	}
	if in.Name == "" || in.Password == "" {
		return &Error{Status: http.StatusBadRequest, Code: "validation_failed", Message: "name and password are required"}
	}
	l, err := a.users.Login(r.Context(), in.Name, in.Password)
	if err != nil {
		return err
	}
	writeLogin(w, http.StatusOK, l)
	return nil
}

// loginWeChat: POST /auth/wechat {code} → {token, expires_at, user, created}.
func (a *API) loginWeChat(w http.ResponseWriter, r *http.Request, _ *store.User) error {
	var in struct {
		Code string `json:"code"`
	}
	if err := a.decodeJSON(w, r, &in); err != nil {
		return err
	}
	if in.Code == "" {
		return &Error{Status: http.StatusBadRequest, Code: "validation_failed", Message: "code: is required (from wx.login)"}
	}
	l, err := a.users.LoginWeChat(r.Context(), in.Code)
	if err != nil {
		return err
	}
	writeLogin(w, http.StatusOK, l)
	return nil
}

// logout: POST /auth/logout → 204; the session's token stops working.
func (a *API) logout(w http.ResponseWriter, r *http.Request, _ *store.User) error {
	if err := a.users.Logout(r.Context(), TokenFromRequest(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// me: GET /me → the caller.
func (a *API) me(w http.ResponseWriter, r *http.Request, u *store.User) error {
	httpx.WriteJSON(w, http.StatusOK, newUserView(u))
	return nil
}
