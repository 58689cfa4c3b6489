package api

import (
	"context"
	"time"

	"roomcast/internal/room"
	"roomcast/internal/store"
)

// userView is the JSON shape of a user. It leaves out the password hash
// and the WeChat identifiers.
type userView struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Role      string    `json:"role"`
	Banned    bool      `json:"banned"`
	WeChat    bool      `json:"wechat"`
	CreatedAt time.Time `json:"created_at"`
}

func newUserView(u *store.User) userView {
	return userView{ID: u.ID, Name: u.Name, Role: u.Role, Banned: u.Banned, WeChat: u.WeChatOpenID != "", CreatedAt: u.CreatedAt}
}

// loginView is the answer of register and the logins.
type loginView struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
	User      userView  `json:"user"`
	Created   bool      `json:"created"`
}

// ownerView is the owner of a room as shown with it.
type ownerView struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// playView is the JSON shape of room.PlayURLs.
type playView struct {
	RTMP      string     `json:"rtmp"`
	FLV       string     `json:"flv"`
	WSFLV     string     `json:"ws_flv"`
	HLS       string     `json:"hls"`
	WHEP      string     `json:"whep"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	// Renditions lists the quality ladder's renditions while the room is
	// live and has some (omitted otherwise).
	Renditions []renditionView `json:"renditions,omitempty"`
}

// Rendition is a live rendition of a stream (the quality ladder).
type Rendition struct {
	// Name is the rung ("480p"); the rendition's stream is STREAM_Name.
	Name                     string
	Width, Height, Bandwidth int
}

// renditionView is the JSON shape of a rendition with its play URLs.
type renditionView struct {
	Name      string `json:"name"`
	Width     int    `json:"width"`
	Height    int    `json:"height"`
	Bandwidth int    `json:"bandwidth"`
	RTMP      string `json:"rtmp"`
	FLV       string `json:"flv"`
	WSFLV     string `json:"ws_flv"`
	HLS       string `json:"hls"`
}

// roomView is the JSON shape of a room.
type roomView struct {
	ID          string     `json:"id"`
	Title       string     `json:"title"`
	Description string     `json:"description"`
	Private     bool       `json:"private"`
	Record      bool       `json:"record"`
	Stream      string     `json:"stream"`
	Status      string     `json:"status"`
	LiveSince   *time.Time `json:"live_since"`
	EndedAt     *time.Time `json:"ended_at"`
	Viewers     int        `json:"viewers"`
	Likes       int64      `json:"likes"`
	Owner       ownerView  `json:"owner"`
	Play        *playView  `json:"play"`
	// Members are the host and co-hosts with their streams: the subscribe
	// list.
	Members   []memberView `json:"members"`
	CoverURL  *string      `json:"cover_url"`
	CreatedAt time.Time    `json:"created_at"`
	UpdatedAt time.Time    `json:"updated_at"`
}

// ownerNames looks up owners' names once per request.
type ownerNames map[string]string

// roomView builds the view of r for viewer, looking its owner up in names.
func (a *API) roomView(ctx context.Context, viewer *store.User, r *store.Room, names ownerNames) (*roomView, error) {
	name, ok := names[r.OwnerID]
	if !ok {
		switch {
		case viewer != nil && viewer.ID == r.OwnerID:
			name = viewer.Name
		default:
			u, err := a.users.Get(ctx, r.OwnerID)
			if err != nil {
				return nil, err
			}
			name = u.Name
		}
		names[r.OwnerID] = name
	}
	v := &roomView{
		ID: r.ID, Title: r.Title, Description: r.Description, Private: r.Private, Record: r.Record, Stream: r.Stream,
		Status: r.Status, LiveSince: r.LiveSince, EndedAt: r.EndedAt, Likes: r.Likes,
		Owner: ownerView{ID: r.OwnerID, Name: name}, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
	}
	v.Viewers = a.rooms.Viewers(r)
	if p := a.rooms.PlayURLs(viewer, r); p != nil {
		v.Play = &playView{RTMP: p.RTMP, FLV: p.FLV, WSFLV: p.WSFLV, HLS: p.HLS, WHEP: p.WHEP, ExpiresAt: p.ExpiresAt}
		if a.renditions != nil && r.Status == store.StatusLive {
			// The ladder of the programme: what the room's play URLs carry.
			for _, rd := range a.renditions(room.ProgrammeStream(r.Stream)) {
				u := a.rooms.RenditionURLs(viewer, r, rd.Name)
				v.Play.Renditions = append(v.Play.Renditions, renditionView{Name: rd.Name, Width: rd.Width, Height: rd.Height,
					Bandwidth: rd.Bandwidth, RTMP: u.RTMP, FLV: u.FLV, WSFLV: u.WSFLV, HLS: u.HLS})
			}
		}
	}
	var err error
	if v.CoverURL, err = a.coverURL(ctx, viewer, r); err != nil {
		return nil, err
	}
	if v.Members, err = a.members(ctx, viewer, r); err != nil {
		return nil, err
	}
	return v, nil
}

// roomList is the answer of GET /rooms.
type roomList struct {
	Rooms      []*roomView `json:"rooms"`
	NextCursor string      `json:"next_cursor"`
}

// userList is the answer of GET /users.
type userList struct {
	Users      []userView `json:"users"`
	NextCursor string     `json:"next_cursor"`
}

// pushView is the answer of POST /rooms/{id}/push-url.
type pushView struct {
	URL       string    `json:"url"`
	Server    string    `json:"server"`
	StreamKey string    `json:"stream_key"`
	WHIP      string    `json:"whip"`
	ExpiresAt time.Time `json:"expires_at"`
}

func newPushView(p *room.PushURL) pushView {
	return pushView{URL: p.URL, Server: p.Server, StreamKey: p.StreamKey, WHIP: p.WHIP, ExpiresAt: p.ExpiresAt}
}
