// Package websocket is the part of RFC 6455 that roomcast's servers speak:
// the opening handshake, unmasked server frames built once and shared by
// every receiver, and a reader of masked client frames with a size limit.
// It opens no sockets; the servers own the connections.
//
// A general WebSocket library frames each message for each connection in
// its own writer; a server that broadcasts one message to thousands of
// connections wants the frame built once (AppendFrame) and the same bytes
// written to all of them.
package websocket

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"unicode/utf8"
)

// Opcodes (RFC 6455 section 5.2).
const (
	OpContinuation = 0x0
	OpText         = 0x1
	OpBinary       = 0x2
	OpClose        = 0x8
	OpPing         = 0x9
	OpPong         = 0xa
)

// Close status codes (RFC 6455 section 7.4.1).
const (
	CloseNormal          = 1000
	CloseGoingAway       = 1001
	CloseProtocolError   = 1002
	CloseUnsupported     = 1003
	CloseNoStatus        = 1005 // never sent: no status in a close frame
	CloseInvalidData     = 1007
	ClosePolicyViolation = 1008
	CloseTooBig          = 1009
	CloseInternalError   = 1011
)

// maxControlPayload is the largest payload of a control frame.
const maxControlPayload = 125

const guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// ErrBadUpgrade is wrapped by CheckUpgrade's errors.
var ErrBadUpgrade = errors.New("not a valid WebSocket upgrade")

// ErrTooBig is returned by Reader.Next for a frame or message over the limit.
var ErrTooBig = errors.New("websocket: message too big")

// ErrProtocol is wrapped by Reader.Next for a frame that breaks RFC 6455.
var ErrProtocol = errors.New("websocket: protocol error")

// AcceptKey returns the Sec-WebSocket-Accept value for a client's
// Sec-WebSocket-Key.
func AcceptKey(key string) string {
	h := sha1.Sum([]byte(key + guid))
	return base64.StdEncoding.EncodeToString(h[:])
}

// CheckUpgrade validates a WebSocket opening handshake (RFC 6455 section
// 4.2.1) and returns the client's key.
func CheckUpgrade(r *http.Request) (string, error) {
	key := r.Header.Get("Sec-WebSocket-Key")
	switch {
	case r.Method != http.MethodGet:
		return "", fmt.Errorf("%w: method %s", ErrBadUpgrade, r.Method)
	case !headerHas(r.Header, "Connection", "upgrade") || !headerHas(r.Header, "Upgrade", "websocket"):
		return "", fmt.Errorf("%w: Connection: upgrade and Upgrade: websocket required", ErrBadUpgrade)
	case r.Header.Get("Sec-WebSocket-Version") != "13":
		return "", fmt.Errorf("%w: Sec-WebSocket-Version must be 13", ErrBadUpgrade)
	}
	if raw, err := base64.StdEncoding.DecodeString(key); err != nil || len(raw) != 16 {
		return "", fmt.Errorf("%w: bad Sec-WebSocket-Key", ErrBadUpgrade)
	}
	return key, nil
}

// UpgradeResponse returns the 101 response that completes the handshake
// for key.
func UpgradeResponse(key string) string {
	return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: " + AcceptKey(key) + "\r\n\r\n"
}

// headerHas reports whether a comma-separated header contains token,
// case-insensitively.
func headerHas(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for t := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// AppendFrameHeader appends the header of an unmasked, final server frame
// of opcode op with an n-byte payload.
func AppendFrameHeader(dst []byte, op byte, n int) []byte {
	dst = append(dst, 0x80|op)
	switch {
	case n < 126:
		return append(dst, byte(n))
	case n <= 0xffff:
		return binary.BigEndian.AppendUint16(append(dst, 126), uint16(n))
	default:
		return binary.BigEndian.AppendUint64(append(dst, 127), uint64(n))
	}
}

// AppendFrame appends a whole unmasked, final server frame.
func AppendFrame(dst []byte, op byte, payload []byte) []byte {
	return append(AppendFrameHeader(dst, op, len(payload)), payload...)
}

// Frame returns a new server frame holding payload: the bytes to write to
// every connection that should receive it.
func Frame(op byte, payload []byte) []byte {
	return AppendFrame(make([]byte, 0, len(payload)+10), op, payload)
}

// ClosePayload returns the payload of a close frame: the status code and
// the reason, cut to fit a control frame on a UTF-8 boundary.
func ClosePayload(code uint16, reason string) []byte {
	for len(reason) > maxControlPayload-2 {
		_, size := utf8.DecodeLastRuneInString(reason)
		reason = reason[:len(reason)-size]
	}
	return append(binary.BigEndian.AppendUint16(make([]byte, 0, 2+len(reason)), code), reason...)
}

// ParseClose returns the status code and reason of a close frame's
// payload; CloseNoStatus for an empty one.
func ParseClose(payload []byte) (code uint16, reason string, err error) {
	switch {
	case len(payload) == 0:
		return CloseNoStatus, "", nil
	case len(payload) == 1:
		return 0, "", fmt.Errorf("%w: close payload of 1 byte", ErrProtocol)
	}
	code = binary.BigEndian.Uint16(payload)
	if code < 1000 || code == CloseNoStatus || code == 1006 || code == 1015 || (code > 1011 && code < 3000) || code > 4999 {
		return 0, "", fmt.Errorf("%w: close status %d", ErrProtocol, code)
	}
	if !utf8.Valid(payload[2:]) {
		return 0, "", fmt.Errorf("%w: close reason is not UTF-8", ErrProtocol)
	}
	return code, string(payload[2:]), nil
}

// Message is what Reader.Next returns: a control frame, or a whole data
// message (fragments joined).
type Message struct {
	// Op is OpText, OpBinary, OpClose, OpPing or OpPong.
	Op byte
	// Payload is unmasked. It is valid until the next call of Next.
	Payload []byte
}

// Reader reads client frames (which must be masked, RFC 6455 section 5.1)
// and joins fragmented messages, up to a size limit.
type Reader struct {
	r     io.Reader
	limit int
	hdr   [14]byte
	buf   []byte // the data message being assembled
	ctl   [maxControlPayload]byte
	op    byte // opcode of the fragmented message in progress, 0: none
}

// NewReader returns a Reader of r that refuses data messages over limit
// bytes with ErrTooBig.
func NewReader(r io.Reader, limit int) *Reader {
	return &Reader{r: r, limit: limit}
}

// Next returns the next control frame or whole data message. Control
// frames may arrive between the fragments of a message, as RFC 6455 allows.
// Errors: io.EOF at a clean end before a frame, ErrTooBig, errors wrapping
// ErrProtocol, and the underlying reader's errors.
func (r *Reader) Next() (Message, error) {
	for {
		fin, op, payload, err := r.frame()
		if err != nil {
			return Message{}, err
		}
		if op >= OpClose {
			return Message{Op: op, Payload: payload}, nil
		}
		if !fin {
			continue
		}
		msg := Message{Op: r.op, Payload: r.buf}
		r.op, r.buf = 0, r.buf[:0]
		if msg.Op == OpText && !utf8.Valid(msg.Payload) {
			return Message{}, fmt.Errorf("%w: text message is not UTF-8", ErrProtocol)
		}
		return msg, nil
	}
}

// frame reads one frame. A data frame's payload is appended to r.buf; a
// control frame's is returned.
func (r *Reader) frame() (fin bool, op byte, payload []byte, err error) {
	h := r.hdr[:2]
	if _, err := io.ReadFull(r.r, h); err != nil {
		return false, 0, nil, err
	}
	fin, op = h[0]&0x80 != 0, h[0]&0x0f
	switch {
	case h[0]&0x70 != 0:
		return false, 0, nil, fmt.Errorf("%w: reserved bits set", ErrProtocol)
	case h[1]&0x80 == 0:
		return false, 0, nil, fmt.Errorf("%w: unmasked client frame", ErrProtocol)
	case op > OpBinary && op < OpClose || op > OpPong:
		return false, 0, nil, fmt.Errorf("%w: unknown opcode %#x", ErrProtocol, op)
	case op >= OpClose && !fin:
		return false, 0, nil, fmt.Errorf("%w: fragmented control frame", ErrProtocol)
	case op == OpContinuation && r.op == 0:
		return false, 0, nil, fmt.Errorf("%w: continuation without a message", ErrProtocol)
	case (op == OpText || op == OpBinary) && r.op != 0:
		return false, 0, nil, fmt.Errorf("%w: new message inside a fragmented one", ErrProtocol)
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		if _, err := io.ReadFull(r.r, r.hdr[2:4]); err != nil {
			return false, 0, nil, unexpected(err)
		}
		n = uint64(binary.BigEndian.Uint16(r.hdr[2:4]))
	case 127:
		if _, err := io.ReadFull(r.r, r.hdr[2:10]); err != nil {
			return false, 0, nil, unexpected(err)
		}
		n = binary.BigEndian.Uint64(r.hdr[2:10])
	}
	if op >= OpClose && n > maxControlPayload {
		return false, 0, nil, fmt.Errorf("%w: control frame of %d bytes", ErrProtocol, n)
	}
	if op < OpClose && n > uint64(r.limit-len(r.buf)) {
		return false, 0, nil, ErrTooBig
	}
	var mask [4]byte
	if _, err := io.ReadFull(r.r, mask[:]); err != nil {
		return false, 0, nil, unexpected(err)
	}
	if op >= OpClose {
		payload = r.ctl[:n]
	} else {
		if op != OpContinuation {
			r.op = op
		}
		start := len(r.buf)
		r.buf = grow(r.buf, int(n))
		payload = r.buf[start:]
	}
	if _, err := io.ReadFull(r.r, payload); err != nil {
		return false, 0, nil, unexpected(err)
	}
	for i := range payload {
		payload[i] ^= mask[i&3]
	}
	return fin, op, payload, nil
}

// grow extends b by n bytes, reusing its capacity.
func grow(b []byte, n int) []byte {
	if cap(b)-len(b) >= n {
		return b[:len(b)+n]
	}
	nb := make([]byte, len(b)+n, max(2*cap(b), len(b)+n))
	copy(nb, b)
	return nb
}

// unexpected turns an EOF inside a frame into io.ErrUnexpectedEOF.
func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
