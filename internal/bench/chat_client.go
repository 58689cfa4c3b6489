package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Chat client sizes.
const (
	// chatReadBuf is a client's read buffer between large frames.
	chatReadBuf = 2048
	// maxChatFrame bounds one server frame (a history frame or a batch).
	maxChatFrame = 4 << 20
	// maxChatFrameHeader is the longest server frame header (unmasked).
	maxChatFrameHeader = 10
	// chatWriteTimeout bounds one write (a message or a pong).
	chatWriteTimeout = 2 * time.Second
)

// errChatClosed reports that the server closed the chat connection with a
// close frame; chatClient.closeCode and closeReason tell why.
var errChatClosed = errors.New("bench: closed by the server")

// Patterns the client looks for in server frames (encoding/json output).
var (
	patWelcome  = []byte(`"type":"welcome"`)
	patHistory  = []byte(`"type":"history"`)
	patError    = []byte(`"type":"error","code":"`)
	patCanSend  = []byte(`"can_send":true`)
	patUserID   = []byte(`"user":{"id":"`)
	patBenchMsg = []byte(`"text":"bench:`)
	patSkipped  = []byte(`"kind":"skipped","count":`)
)

// chatClient is one chat WebSocket connection. Its reader goroutine owns
// every field but mu, conn and the write path; the run reads the rest after
// the goroutine ended.
type chatClient struct {
	r      *chatRun
	token  string       // "" for a guest
	sender bool         // sends the run's messages
	laddr  *net.TCPAddr // source address; nil: any

	mu   sync.Mutex // serializes writes: pongs (reader) and messages (sender loop)
	conn net.Conn
	rx   *rxStamps // kernel receive timestamps; nil: user-space time

	joinOnce sync.Once
	joined   atomic.Bool // got welcome; canSend and userID are set before it
	canSend  bool
	userID   string

	received    int64 // bench messages delivered during the run
	skipped     int64 // messages the server said it skipped for this client
	lastLatUS   int64 // latency of the last of them
	closeCode   int
	closeReason string
	err         error  // why the connection ended (nil: stopped by the run)
	frag        []byte // a fragmented text message so far
	at          int64  // arrival (Unix ns) of the last read
}

// markJoined ends the client's join phase, once.
func (c *chatClient) markJoined() { c.joinOnce.Do(c.r.joinWG.Done) }

// run connects and reads until the run or the connection ends.
func (c *chatClient) run() {
	defer c.r.wg.Done()
	defer c.markJoined()
	err := c.play()
	if c.r.ctx.Err() != nil && !errors.Is(err, errChatClosed) {
		err = nil // stopped by the run
	}
	c.err = err
}

// play dials, upgrades and reads frames.
func (c *chatClient) play() error {
	r := c.r
	select {
	case r.dialSem <- struct{}{}:
	case <-r.ctx.Done():
		return r.ctx.Err()
	}
	conn, buf, rest, err := c.connect()
	<-r.dialSem
	if err != nil {
		return err
	}
	defer conn.Close()
	return c.readLoop(buf, len(rest))
}

// connect opens the connection and performs the WebSocket handshake. It
// returns the read buffer with the bytes read after the response header at
// its start.
func (c *chatClient) connect() (net.Conn, []byte, []byte, error) {
	r := c.r
	d := net.Dialer{Timeout: dialTimeout}
	if c.laddr != nil {
		d.LocalAddr = c.laddr
	}
	t := r.t
	if c.sender && t.send != nil {
		t = t.send
	}
	conn, err := d.DialContext(r.ctx, "tcp", t.hostport)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("dial: %w", err)
	}
	context.AfterFunc(r.ctx, func() { conn.Close() })
	c.conn = conn
	if r.cfg.Arrival == ArrivalKernel {
		if rx, err := enableRxStamps(conn); err == nil {
			c.rx = rx
		} else {
			r.noteArrivalErr(err)
		}
	}
	var nonce [16]byte
	_, _ = rand.Read(nonce[:])
	key := base64.StdEncoding.EncodeToString(nonce[:])
	extra := "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " + key + "\r\n"
	if c.token != "" {
		extra += "Authorization: Bearer " + c.token + "\r\n"
	}
	_ = conn.SetDeadline(time.Now().Add(r.cfg.JoinTimeout))
	if _, err := conn.Write(appendGET(nil, t.u, extra)); err != nil {
		conn.Close()
		return nil, nil, nil, fmt.Errorf("request: %w", err)
	}
	buf := make([]byte, chatReadBuf)
	filled := 0
	for {
		if filled == len(buf) {
			buf = append(buf, make([]byte, len(buf))...)
		}
		n, _, err := c.read(buf[filled:])
		filled += n
		hn, h, perr := parseResponseHeader(buf[:filled])
		if perr != nil {
			conn.Close()
			return nil, nil, nil, perr
		}
		if hn > 0 {
			if h.status != 101 {
				conn.Close()
				body := bytes.TrimSpace(buf[hn:filled])
				return nil, nil, nil, fmt.Errorf("HTTP %d %s: %w", h.status, body[:min(len(body), 120)], errBadResponse)
			}
			if h.wsAccept != wsAcceptKey(key) {
				conn.Close()
				return nil, nil, nil, fmt.Errorf("bad Sec-WebSocket-Accept: %w", errBadResponse)
			}
			_ = conn.SetDeadline(time.Time{})
			n := copy(buf, buf[hn:filled])
			return conn, buf, buf[:n], nil
		}
		if err != nil {
			conn.Close()
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return nil, nil, nil, fmt.Errorf("response header: %w", err)
		}
	}
}

// read reads into p and returns the arrival time of what it read as Unix
// nanoseconds: the kernel's receive timestamp (capped at now) when there
// is one, else now.
func (c *chatClient) read(p []byte) (int, int64, error) {
	if c.rx == nil {
		n, err := c.conn.Read(p)
		return n, time.Now().UnixNano(), err
	}
	n, ns, err := c.rx.read(p)
	now := time.Now().UnixNano()
	if n > 0 {
		c.r.reads.Add(1)
		if ns != 0 {
			c.r.stampedReads.Add(1)
			now = min(now, ns)
		}
	}
	return n, now, err
}

// readLoop parses frames from buf[:w] and what follows, until the
// connection ends.
func (c *chatClient) readLoop(buf []byte, w int) error {
	rpos := 0
	for {
		for {
			op, fin, hl, pl, ok, err := parseChatFrameHeader(buf[rpos:w])
			if err != nil {
				return err
			}
			if !ok {
				break
			}
			total := hl + pl
			if total > maxChatFrame {
				return fmt.Errorf("frame of %d bytes: %w", total, errBadFrame)
			}
			if w-rpos < total {
				if total > len(buf) {
					nb := make([]byte, total)
					w = copy(nb, buf[rpos:w])
					buf, rpos = nb, 0
				}
				break
			}
			if err := c.frame(op, fin, buf[rpos+hl:rpos+total]); err != nil {
				return err
			}
			rpos += total
		}
		if rpos == w {
			rpos, w = 0, 0
			if len(buf) > chatReadBuf {
				buf = make([]byte, chatReadBuf) // a large frame is rare: give it back
			}
		} else if rpos > 0 && (w == len(buf) || len(buf)-rpos < maxChatFrameHeader) {
			w = copy(buf, buf[rpos:w])
			rpos = 0
		}
		n, at, err := c.read(buf[w:])
		w += n
		c.at = at
		if err != nil && n == 0 {
			if errors.Is(err, io.EOF) {
				return io.ErrUnexpectedEOF
			}
			return err
		}
	}
}
