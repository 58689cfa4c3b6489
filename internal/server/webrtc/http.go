package webrtc

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"roomcast/internal/httpx"
	"roomcast/internal/protocol/sdpoffer"
)

// Kinds of session, as they appear in URLs and metrics.
const (
	KindWHIP = "whip"
	KindWHEP = "whep"
)

// httpError is a refusal with its status and stable code.
type httpError struct {
	status        int
	code, message string
}

// Error implements error.
func (e *httpError) Error() string { return e.message }

func refuse(status int, code, format string, args ...any) error {
	return &httpError{status: status, code: code, message: fmt.Sprintf(format, args...)}
}

// writeError answers err: an httpError as it says, anything else as 500.
func (s *Server) writeError(w http.ResponseWriter, err error) {
	var he *httpError
	if errors.As(err, &he) {
		httpx.WriteError(w, he.status, he.code, he.message)
		return
	}
	s.log.Warn("webrtc request failed", "err", err)
	httpx.WriteError(w, http.StatusInternalServerError, "internal", "internal server error")
}

// cors lets pages of any origin use the endpoints (as the play URLs) and
// read the Location of the session they created.
func cors(w http.ResponseWriter) {
	h := w.Header()
	httpx.AllowAnyOrigin(h)
	h.Set("Access-Control-Expose-Headers", "Location, Link, ETag")
}

// preflight answers a CORS preflight for methods.
func preflight(w http.ResponseWriter, methods string) {
	h := w.Header()
	cors(w)
	h.Set("Access-Control-Allow-Methods", methods)
	h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, If-Match")
	h.Set("Access-Control-Max-Age", "600")
	w.WriteHeader(http.StatusNoContent)
}

// ServeWHEP answers /APP/STREAM/whep: POST an SDP offer to play stream.
func (s *Server) ServeWHEP(w http.ResponseWriter, r *http.Request, stream string) {
	s.serveEndpoint(w, r, KindWHEP, stream)
}

// ServeWHIP answers /APP/STREAM/whip: POST an SDP offer to publish stream.
func (s *Server) ServeWHIP(w http.ResponseWriter, r *http.Request, stream string) {
	s.serveEndpoint(w, r, KindWHIP, stream)
}

func (s *Server) serveEndpoint(w http.ResponseWriter, r *http.Request, kind, stream string) {
	switch r.Method {
	case http.MethodOptions:
		preflight(w, "POST, OPTIONS")
		return
	case http.MethodPost:
	default:
		cors(w)
		w.Header().Set("Allow", "POST, OPTIONS")
		httpx.WriteError(w, http.StatusMethodNotAllowed, "method_not_allowed", "use POST with an SDP offer (Content-Type: application/sdp)")
		return
	}
	cors(w)
	req := Request{Stream: stream, Query: r.URL.Query(), Token: bearer(r), RemoteAddr: r.RemoteAddr}
	if a := s.cfg.Authorizer; a != nil {
		authorize := a.AuthorizePlay
		if kind == KindWHIP {
			authorize = a.AuthorizePublish
		}
		if err := authorize(r.Context(), req); err != nil {
			if s.cfg.Denied != nil {
				s.cfg.Denied(w, kind == KindWHIP, err)
			} else {
				httpx.WriteError(w, http.StatusForbidden, "forbidden", err.Error())
			}
			return
		}
	}
	if kind == KindWHEP && s.hub.Stream(stream) == nil {
		s.writeError(w, refuse(http.StatusNotFound, "stream_not_found", "stream %q is not live", stream))
		return
	}
	offer, raw, err := readOffer(r)
	if err != nil {
		s.writeError(w, err)
		return
	}
	var answer, id string
	if kind == KindWHIP {
		answer, id, err = s.startWHIP(req, offer, raw)
	} else {
		answer, id, err = s.startWHEP(req, offer, raw)
	}
	if err != nil {
		s.writeError(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/sdp")
	w.Header().Set("Location", "/"+s.cfg.App+"/"+stream+"/"+kind+"/"+id)
	w.Header().Set("ETag", `"`+id+`"`)
	w.WriteHeader(http.StatusCreated)
	_, _ = io.WriteString(w, answer)
}

// ServeResource answers /APP/STREAM/KIND/ID, the session resource: DELETE
// ends the session; PATCH (trickle ICE and ICE restarts) is not
// supported, as the answer carries all of the server's candidates.
func (s *Server) ServeResource(w http.ResponseWriter, r *http.Request, kind, stream, id string) {
	switch r.Method {
	case http.MethodOptions:
		preflight(w, "DELETE, OPTIONS")
		return
	case http.MethodDelete:
	case http.MethodPatch:
		cors(w)
		w.Header().Set("Allow", "DELETE, OPTIONS")
		httpx.WriteError(w, http.StatusMethodNotAllowed, "trickle_not_supported",
			"trickle ICE and ICE restarts are not supported: the answer carries every server candidate; start a new session instead")
		return
	default:
		cors(w)
		w.Header().Set("Allow", "DELETE, OPTIONS")
		httpx.WriteError(w, http.StatusMethodNotAllowed, "method_not_allowed", "use DELETE to end the session")
		return
	}
	cors(w)
	sess := s.lookup(kind, stream, id)
	if sess == nil {
		httpx.WriteError(w, http.StatusNotFound, "session_not_found", "no such "+strings.ToUpper(kind)+" session")
		return
	}
	sess.close(errDeleted)
	w.WriteHeader(http.StatusOK)
}

var errDeleted = errors.New("session deleted by the client")

// readOffer reads and checks the SDP offer of a POST.
func readOffer(r *http.Request) (*sdpoffer.Offer, string, error) {
	ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || ct != "application/sdp" {
		return nil, "", refuse(http.StatusUnsupportedMediaType, "unsupported_media_type",
			"the body must be an SDP offer with Content-Type: application/sdp")
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, sdpoffer.MaxSize+1))
	if err != nil {
		return nil, "", refuse(http.StatusBadRequest, "invalid_sdp", "reading the offer: %v", err)
	}
	offer, err := sdpoffer.Parse(body)
	if err != nil {
		return nil, "", refuse(http.StatusBadRequest, "invalid_sdp", "%v", err)
	}
	return offer, string(body), nil
}

// bearer returns the token of "Authorization: Bearer TOKEN", or "".
func bearer(r *http.Request) string {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}
