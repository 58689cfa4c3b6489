package bench

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"strconv"
	"time"
)

// parseChatFrameHeader parses the header of a server frame at the start of
// b: ok is false while it is incomplete; hl is its length and pl the
// payload's. Server frames must not be masked (RFC 6455 section 5.1).
func parseChatFrameHeader(b []byte) (op byte, fin bool, hl, pl int, ok bool, err error) {
	if len(b) < 2 {
		return 0, false, 0, 0, false, nil
	}
	if b[0]&0x70 != 0 {
		return 0, false, 0, 0, false, fmt.Errorf("reserved bits set: %w", errBadFrame)
	}
	if b[1]&0x80 != 0 {
		return 0, false, 0, 0, false, fmt.Errorf("masked server frame: %w", errBadFrame)
	}
	op, fin = b[0]&0x0f, b[0]&0x80 != 0
	n := int64(b[1] & 0x7f)
	hl = 2
	switch n {
	case 126:
		if len(b) < 4 {
			return 0, false, 0, 0, false, nil
		}
		n, hl = int64(binary.BigEndian.Uint16(b[2:])), 4
	case 127:
		if len(b) < 10 {
			return 0, false, 0, 0, false, nil
		}
		u := binary.BigEndian.Uint64(b[2:])
		if u > maxChatFrame {
			return 0, false, 0, 0, false, fmt.Errorf("frame of %d bytes: %w", u, errBadFrame)
		}
		n, hl = int64(u), 10
	}
	switch op {
	case wsOpContinuation, wsOpText, wsOpBinary:
	case wsOpClose, wsOpPing, wsOpPong:
		if !fin || n > 125 {
			return 0, false, 0, 0, false, fmt.Errorf("control frame fragmented or over 125 bytes: %w", errBadFrame)
		}
	default:
		return 0, false, 0, 0, false, fmt.Errorf("opcode %d: %w", op, errBadFrame)
	}
	return op, fin, hl, int(n), true, nil
}

// frame handles one complete frame; payload is only valid during the call.
func (c *chatClient) frame(op byte, fin bool, payload []byte) error {
	switch op {
	case wsOpPing:
		return c.write(wsOpPong, payload)
	case wsOpPong:
		return nil
	case wsOpClose:
		if len(payload) >= 2 {
			c.closeCode = int(binary.BigEndian.Uint16(payload))
			c.closeReason = string(payload[2:])
		} else {
			c.closeCode = 1005
		}
		return errChatClosed
	case wsOpBinary:
		return fmt.Errorf("binary message: %w", errBadFrame)
	case wsOpText:
		if !fin {
			c.frag = append(c.frag[:0], payload...)
			return nil
		}
		c.message(payload)
	case wsOpContinuation:
		if c.frag == nil {
			return fmt.Errorf("continuation without a message: %w", errBadFrame)
		}
		if len(c.frag)+len(payload) > maxChatFrame {
			return fmt.Errorf("message over %d bytes: %w", maxChatFrame, errBadFrame)
		}
		c.frag = append(c.frag, payload...)
		if fin {
			c.message(c.frag)
			c.frag = nil
		}
	}
	return nil
}

// message handles one text message (an object or a JSON array of them),
// looking only for the few patterns the bench needs.
func (c *chatClient) message(m []byte) {
	if !c.joined.Load() {
		if bytes.Contains(m, patWelcome) {
			c.canSend = bytes.Contains(m, patCanSend)
			if j := bytes.Index(m, patUserID); j >= 0 {
				id := m[j+len(patUserID):]
				if k := bytes.IndexByte(id, '"'); k >= 0 {
					c.userID = string(id[:k])
				}
			}
			c.joined.Store(true)
			c.markJoined()
		}
	}
	for rest := m; ; {
		i := bytes.Index(rest, patError)
		if i < 0 {
			break
		}
		rest = rest[i+len(patError):]
		if k := bytes.IndexByte(rest, '"'); k >= 0 {
			c.r.countServerError(rest[:k])
		}
	}
	if bytes.Contains(m, patHistory) {
		return // old messages, not deliveries
	}
	for rest := m; ; {
		i := bytes.Index(rest, patSkipped)
		if i < 0 {
			break
		}
		rest = rest[i+len(patSkipped):]
		var n int64
		for k := 0; k < len(rest) && k < 19 && rest[k] >= '0' && rest[k] <= '9'; k++ {
			n = n*10 + int64(rest[k]-'0')
		}
		c.skipped += n
		c.r.skips.Add(1)
		c.r.skippedMsgs.Add(n)
	}
	start := c.r.sendStart.Load()
	if start == 0 {
		return
	}
	for rest := m; ; {
		i := bytes.Index(rest, patBenchMsg)
		if i < 0 {
			return
		}
		rest = rest[i+len(patBenchMsg):]
		var sent int64
		k := 0
		for ; k < len(rest) && k < 19 && rest[k] >= '0' && rest[k] <= '9'; k++ {
			sent = sent*10 + int64(rest[k]-'0')
		}
		if k == 0 || sent < start {
			continue // not this run's
		}
		lat := max(c.at-sent, 0) / 1000
		c.received++
		c.lastLatUS = lat
		c.r.latency.add(lat)
		c.r.deliveries.Add(1)
	}
}

// write sends one masked frame (client frames must be masked, RFC 6455
// section 5.3) with a payload of at most 125 bytes.
func (c *chatClient) write(op byte, payload []byte) error {
	var f [6 + 125]byte
	n := min(len(payload), 125)
	f[0] = 0x80 | op
	f[1] = 0x80 | byte(n)
	_, _ = rand.Read(f[2:6])
	for i, b := range payload[:n] {
		f[6+i] = b ^ f[2+i&3]
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	_ = c.conn.SetWriteDeadline(time.Now().Add(chatWriteTimeout))
	_, err := c.conn.Write(f[:6+n])
	return err
}

// sendChat sends a chat message whose text is "bench:" and the current
// time in Unix nanoseconds.
func (c *chatClient) sendChat() error {
	var b [64]byte
	m := append(b[:0], `{"type":"chat","text":"bench:`...)
	m = strconv.AppendInt(m, time.Now().UnixNano(), 10)
	m = append(m, `"}`...)
	return c.write(wsOpText, m)
}
