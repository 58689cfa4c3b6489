// Package webrtc serves WebRTC publishing (WHIP, RFC 9725) and playback
// (WHEP) on pion. A WHIP session is a hub publisher and a WHEP session a hub
// subscriber, like the other protocols' connections; the codecs' wire
// formats live in internal/protocol (rtph264, ogg, adts, sdpoffer) and in
// pion. Every peer connection shares one UDP port and one ICE-TCP port.
package webrtc

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"

	"roomcast/internal/hub"
)

// Request describes a WHIP or WHEP request for an Authorizer.
type Request struct {
	Stream string
	// Query is the URL's query (txSecret and txTime).
	Query url.Values
	// Token is the bearer token of the Authorization header ("": none).
	Token      string
	RemoteAddr string
}

// Authorizer decides whether a request may go ahead; the server answers a
// refusal through Config.Denied.
type Authorizer interface {
	AuthorizePublish(ctx context.Context, req Request) error
	AuthorizePlay(ctx context.Context, req Request) error
}

// Runner runs the supervised ffmpeg jobs that bridge audio codecs (AAC to
// Opus for WHEP, Opus to AAC for WHIP): internal/transcode's Manager,
// adapted by the app. A job's process is restarted after it dies, and
// Attach is called again with the new pipes.
type Runner interface {
	// Run starts job and returns at once; stop ends it (closing stdin,
	// then killing the process after a grace) and waits for it.
	Run(ctx context.Context, job Job) (stop func(), err error)
}

// Job is one transcoding job.
type Job struct {
	// Name says which job it is, in logs ("whep-audio s_…").
	Name string
	// Args are ffmpeg's arguments after the global ones (-hide_banner
	// -nostats -nostdin -loglevel error): input pipe:0, output pipe:1.
	Args []string
	// Attach feeds stdin and reads stdout for one run of the process; it
	// returns when ctx ends or a pipe fails. Returning nil ends the job.
	Attach func(ctx context.Context, stdin io.WriteCloser, stdout io.Reader) error
	// Done, if not nil, ends the job when closed (the hub stream's Done).
	Done <-chan struct{}
}

// Config configures the server.
type Config struct {
	// App is the application in /APP/STREAM/whep ("live").
	App string
	// ICE holds the shared sockets and the advertised addresses.
	ICE ICE
	// Authorizer, if set, decides who may publish and play.
	Authorizer Authorizer
	// Denied writes the answer to a refused request (err comes from the
	// Authorizer; publish tells WHIP from WHEP); nil answers 403.
	Denied func(w http.ResponseWriter, publish bool, err error)
	// Transcoder starts audio transcoders; nil: WHEP viewers get no audio
	// and WHIP publishers publish video only.
	Transcoder Runner
	// FFmpeg is the ffmpeg binary the transcoders run ("ffmpeg").
	FFmpeg string
	// KeyframeInterval is how often a WHIP publisher is asked for a
	// keyframe (PLI), so that the GOP cache and HLS segments stay short;
	// browsers send keyframes only when asked.
	KeyframeInterval time.Duration
	// ConnectTimeout ends sessions whose peer did not connect in time.
	ConnectTimeout time.Duration
	// MaxSessions bounds WHIP and WHEP sessions together (0: no limit).
	MaxSessions int
	// Takeover mirrors the hub's: a WHIP publisher may replace a live one.
	Takeover bool
}

// Defaults.
const (
	DefaultKeyframeInterval = 2 * time.Second
	DefaultConnectTimeout   = 15 * time.Second
)

// session is a WHIP or WHEP session.
type session interface {
	close(reason error)
	done() <-chan struct{}
}

// Server holds the WHIP and WHEP sessions.
type Server struct {
	cfg      Config
	hub      *hub.Hub
	log      *slog.Logger
	api      *webrtc.API // WHIP sessions
	playAPI  *webrtc.API // WHEP sessions
	closeICE func() error
	ctx      context.Context
	cancel   context.CancelFunc
	audio    *audioFeeds
	taps     *opusTaps
	certs    certs

	mu       sync.Mutex
	sessions map[string]entry
	closed   bool
	wg       sync.WaitGroup // sessions
	bg       sync.WaitGroup // audio transcoders and taps
	counts   map[string]int // open sessions by kind, for metrics
}

type entry struct {
	kind, stream string
	s            session
}

// ErrClosed is returned for requests after Close.
var ErrClosed = errors.New("webrtc: server closed")

// New returns a server using the sockets of cfg.ICE; Close releases them.
func New(cfg Config, h *hub.Hub, log *slog.Logger) (*Server, error) {
	if cfg.KeyframeInterval <= 0 {
		cfg.KeyframeInterval = DefaultKeyframeInterval
	}
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = DefaultConnectTimeout
	}
	if cfg.FFmpeg == "" {
		cfg.FFmpeg = "ffmpeg"
	}
	api, playAPI, closeICE, err := newAPIs(cfg.ICE, slogFactory{log: log})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		cfg: cfg, hub: h, log: log, api: api, playAPI: playAPI, closeICE: closeICE,
		ctx: ctx, cancel: cancel,
		sessions: make(map[string]entry),
		counts:   make(map[string]int),
	}
	s.audio = newAudioFeeds(s)
	s.taps = newOpusTaps(s)
	return s, nil
}

// Sessions returns the number of open sessions by kind ("whip", "whep").
func (s *Server) Sessions() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, 2)
	for k, n := range s.counts {
		out[k] = n
	}
	return out
}

// AudioTranscoders returns the number of running WHEP audio transcoders.
func (s *Server) AudioTranscoders() int { return s.audio.count() }

// Close ends every session and releases the ICE sockets.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	list := make([]session, 0, len(s.sessions))
	for _, e := range s.sessions {
		list = append(list, e.s)
	}
	s.mu.Unlock()
	// Closing a peer connection waits for its DTLS and ICE to stop: close
	// them all at once.
	var wg sync.WaitGroup
	for _, sess := range list {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sess.close(ErrClosed)
		}()
	}
	wg.Wait()
	s.cancel()
	s.wg.Wait()
	s.bg.Wait()
	return s.closeICE()
}

// background runs f on a goroutine that Close waits for; it reports false
// (and does not run f) once Close has begun.
func (s *Server) background(f func()) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		f()
	}()
	return true
}

// add registers a session under a new id; it fails after Close or at
// MaxSessions.
func (s *Server) add(kind, stream string, sess session) (string, error) {
	id := newID()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return "", ErrClosed
	}
	if s.cfg.MaxSessions > 0 && len(s.sessions) >= s.cfg.MaxSessions {
		return "", errTooManySessions
	}
	s.sessions[id] = entry{kind: kind, stream: stream, s: sess}
	s.counts[kind]++
	s.wg.Add(1)
	return id, nil
}

// remove forgets a session once it ended.
func (s *Server) remove(id string) {
	s.mu.Lock()
	if e, ok := s.sessions[id]; ok {
		delete(s.sessions, id)
		s.counts[e.kind]--
		s.wg.Done()
	}
	s.mu.Unlock()
}

// lookup returns the session id of kind on stream.
func (s *Server) lookup(kind, stream, id string) session {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.sessions[id]
	if !ok || e.kind != kind || e.stream != stream {
		return nil
	}
	return e.s
}

var errTooManySessions = errors.New("webrtc: too many sessions")

// newID returns a random session id.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// wrapErr adds the operation to an error.
func wrapErr(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", op, err)
}
