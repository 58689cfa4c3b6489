package rtmp

import "fmt"

// tx returns the next transaction ID.
func (c *Client) tx() float64 {
	t := c.nextTx
	c.nextTx++
	return t
}

// write sends one message.
func (c *Client) write(m *Message) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.cw.WriteMessage(m)
}

// send encodes and sends a command on message stream streamID.
func (c *Client) send(cmd *Command, streamID uint32) error {
	m, err := cmd.Message(CSIDCommand, streamID)
	if err != nil {
		return err
	}
	return c.write(m)
}

// call sends cmd with a new transaction ID and waits for its _result or
// _error; an _error becomes a *StatusError.
func (c *Client) call(cmd *Command, streamID uint32) (*Command, error) {
	cmd.TransactionID = c.tx()
	if err := c.send(cmd, streamID); err != nil {
		return nil, err
	}
	for {
		reply, err := c.nextCommand()
		if err != nil {
			return nil, err
		}
		level, code, desc := statusInfo(reply)
		switch {
		case (reply.Name == "_result" || reply.Name == "_error") && reply.TransactionID == cmd.TransactionID:
			if reply.Name == "_error" || level == LevelError {
				return nil, &StatusError{Code: code, Description: desc}
			}
			return reply, nil
		case reply.Name == "onStatus" && level == LevelError:
			return nil, &StatusError{Code: code, Description: desc}
		}
	}
}

// waitStatus reads until an onStatus with the given code arrives; an
// onStatus or _error with level "error" first becomes a *StatusError.
func (c *Client) waitStatus(code string) error {
	for {
		reply, err := c.nextCommand()
		if err != nil {
			return err
		}
		level, got, desc := statusInfo(reply)
		switch {
		case reply.Name == "onStatus" && got == code:
			if level == LevelError {
				return &StatusError{Code: got, Description: desc}
			}
			return nil
		case (reply.Name == "onStatus" || reply.Name == "_error") && level == LevelError:
			return &StatusError{Code: got, Description: desc}
		}
	}
}

// nextCommand reads until a command message arrives, queueing media.
func (c *Client) nextCommand() (*Command, error) {
	for {
		m, err := c.readRaw()
		if err != nil {
			return nil, err
		}
		if m.Type == TypeCommandAMF0 || m.Type == TypeCommandAMF3 {
			return ParseCommand(m)
		}
		if err := c.enqueue(m); err != nil {
			return nil, err
		}
	}
}

// enqueue queues audio, video and data messages for ReadMessage, split if
// aggregate; other messages (shared objects) are dropped.
func (c *Client) enqueue(m *Message) error {
	switch m.Type {
	case TypeAudio, TypeVideo, TypeDataAMF0, TypeDataAMF3:
		c.queue = append(c.queue, m)
	case TypeAggregate:
		subs, err := SplitAggregate(m)
		if err != nil {
			return err
		}
		c.queue = append(c.queue, subs...)
	}
	return nil
}

// readRaw reads the next message that is not a protocol control or user
// control message, handling those itself.
func (c *Client) readRaw() (*Message, error) {
	for {
		m, err := c.cr.ReadMessage()
		if err != nil {
			return nil, err
		}
		if err := c.maybeAck(); err != nil {
			return nil, err
		}
		switch m.Type {
		case TypeSetChunkSize, TypeAbort, TypeAck, TypeSetPeerBandwidth:
			// The reader applied chunk size and abort; nothing else to do.
		case TypeWindowAckSize:
			v, err := ParseUint32(m.Data)
			if err != nil {
				return nil, err
			}
			c.ackWindow = v
		case TypeUserControl:
			event, values, err := ParseUserControl(m.Data)
			if err != nil {
				return nil, err
			}
			if event == EventPingRequest {
				if err := c.write(NewPingResponse(values[0])); err != nil {
					return nil, err
				}
			}
		default:
			return m, nil
		}
	}
}

// maybeAck sends an acknowledgement once a window's worth of bytes arrived.
func (c *Client) maybeAck() error {
	n := c.cr.BytesRead()
	if c.ackWindow == 0 || n-c.lastAck < uint64(c.ackWindow) {
		return nil
	}
	c.lastAck = n
	if err := c.write(NewAck(uint32(n))); err != nil {
		return fmt.Errorf("send acknowledgement: %w", err)
	}
	return nil
}
