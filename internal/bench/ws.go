package bench

import (
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
)

// errBadFrame reports a WebSocket frame the bench cannot accept.
var errBadFrame = errors.New("bench: bad WebSocket frame")

// wsGUID is the handshake's magic string (RFC 6455 section 1.3).
const wsGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// WebSocket opcodes.
const (
	wsOpContinuation = 0
	wsOpText         = 1
	wsOpBinary       = 2
	wsOpClose        = 8
	wsOpPing         = 9
	wsOpPong         = 10
)

// wsAcceptKey returns the Sec-WebSocket-Accept value for a key.
func wsAcceptKey(key string) string {
	h := sha1.Sum([]byte(key + wsGUID))
	return base64.StdEncoding.EncodeToString(h[:])
}

// playWSFLV plays WebSocket-FLV: a hand-written RFC 6455 client whose binary
// message payloads, concatenated, are an FLV stream.
func playWSFLV(v *viewer) error {
	cr, err := v.dial()
	if err != nil {
		return fmt.Errorf("dial: %w", err)
	}
	c := cr.c
	defer c.Close()
	var nonce [16]byte
	_, _ = rand.Read(nonce[:])
	key := base64.StdEncoding.EncodeToString(nonce[:])
	extra := "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " + key + "\r\n"
	if _, err := c.Write(appendGET(nil, v.r.t.u, extra)); err != nil {
		return fmt.Errorf("request: %w", err)
	}
	buf := make([]byte, readBufSize)
	h, rest, at, err := readResponseHeader(cr, buf)
	if err != nil {
		return err
	}
	if h.status != 101 {
		return fmt.Errorf("WebSocket handshake: HTTP status %d: %w", h.status, errBadResponse)
	}
	if h.wsAccept != wsAcceptKey(key) {
		return fmt.Errorf("WebSocket handshake: bad Sec-WebSocket-Accept: %w", errBadResponse)
	}
	v.connected()
	ws := &wsStream{conn: c, body: newFLVBody(v, false, -1)}
	ws.dataFn, ws.ctrlFn = ws.body.emit, ws.control
	return pump(cr, ws, buf, rest, at)
}

// wsStream is a WebSocket connection carrying FLV.
type wsStream struct {
	conn   net.Conn
	dec    wsDecoder
	body   *flvBody
	dataFn func([]byte) error
	ctrlFn func(op byte, payload []byte) error
	closed bool
}

func (s *wsStream) feed(p []byte, now int64) (bool, error) {
	s.body.now = now
	if err := s.dec.decode(p, s.dataFn, s.ctrlFn); err != nil {
		return false, err
	}
	return s.closed, nil
}

// control answers pings and notes a close.
func (s *wsStream) control(op byte, payload []byte) error {
	switch op {
	case wsOpClose:
		s.closed = true
	case wsOpPing:
		var f [6 + 125]byte
		f[0] = 0x80 | wsOpPong
		f[1] = 0x80 | byte(len(payload)) // masked, as clients must
		_, _ = rand.Read(f[2:6])
		for i, c := range payload {
			f[6+i] = c ^ f[2+i&3]
		}
		if _, err := s.conn.Write(f[:6+len(payload)]); err != nil {
			return fmt.Errorf("pong: %w", err)
		}
	}
	return nil
}

// wsDecoder parses WebSocket frames fed in arbitrary pieces, unmasking
// payloads in place, without allocating.
type wsDecoder struct {
	hdr       [14]byte
	hn, need  int // header bytes read and needed so far
	inPayload bool
	op        byte
	masked    bool
	mask      [4]byte
	mpos      int
	left      int64 // payload bytes still to come
	ctrl      [125]byte
	cn        int
}

// decode consumes p, calling data with pieces of data frame payloads and
// control with each complete control frame.
func (d *wsDecoder) decode(p []byte, data func([]byte) error, control func(op byte, payload []byte) error) error {
	for len(p) > 0 {
		if !d.inPayload {
			if d.need == 0 {
				d.need = 2
			}
			k := copy(d.hdr[d.hn:d.need], p)
			d.hn += k
			p = p[k:]
			if d.hn < d.need {
				return nil
			}
			if d.need == 2 {
				extra := 0
				switch d.hdr[1] & 0x7f {
				case 126:
					extra = 2
				case 127:
					extra = 8
				}
				if d.hdr[1]&0x80 != 0 {
					extra += 4
				}
				if extra > 0 {
					d.need += extra
					continue
				}
			}
			if err := d.parseHeader(); err != nil {
				return err
			}
			if d.left > 0 {
				continue
			}
		} else {
			k := int(min(d.left, int64(len(p))))
			chunk := p[:k]
			p = p[k:]
			if d.masked {
				for i := range chunk {
					chunk[i] ^= d.mask[d.mpos&3]
					d.mpos++
				}
			}
			d.left -= int64(k)
			if d.op >= wsOpClose {
				d.cn += copy(d.ctrl[d.cn:], chunk)
			} else if err := data(chunk); err != nil {
				return err
			}
			if d.left > 0 {
				continue
			}
		}
		// The frame is complete.
		d.inPayload = false
		if d.op >= wsOpClose {
			if err := control(d.op, d.ctrl[:d.cn]); err != nil {
				return err
			}
		}
	}
	return nil
}

// parseHeader decodes the complete frame header in d.hdr[:d.hn].
func (d *wsDecoder) parseHeader() error {
	h := d.hdr[:d.hn]
	d.hn, d.need = 0, 0
	if h[0]&0x70 != 0 {
		return fmt.Errorf("reserved bits set: %w", errBadFrame)
	}
	d.op = h[0] & 0x0f
	fin := h[0]&0x80 != 0
	d.masked = h[1]&0x80 != 0
	n := int64(h[1] & 0x7f)
	pos := 2
	switch n {
	case 126:
		n = int64(h[2])<<8 | int64(h[3])
		pos = 4
	case 127:
		var u uint64
		for _, c := range h[2:10] {
			u = u<<8 | uint64(c)
		}
		if u > 1<<40 {
			return fmt.Errorf("frame of %d bytes: %w", u, errBadFrame)
		}
		n = int64(u)
		pos = 10
	}
	if d.masked {
		copy(d.mask[:], h[pos:pos+4])
	}
	switch d.op {
	case wsOpContinuation, wsOpText, wsOpBinary:
	case wsOpClose, wsOpPing, wsOpPong:
		if !fin || n > 125 {
			return fmt.Errorf("control frame fragmented or over 125 bytes: %w", errBadFrame)
		}
	default:
		return fmt.Errorf("opcode %d: %w", d.op, errBadFrame)
	}
	d.left = n
	d.mpos = 0
	d.cn = 0
	d.inPayload = n > 0
	return nil
}
