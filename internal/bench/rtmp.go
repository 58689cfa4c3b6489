package bench

import (
	"context"
	"errors"
	"fmt"
	"io"

	"roomcast/internal/protocol/rtmp"
)

// rtmpPlayer returns the RTMP play function.
func rtmpPlayer() (func(*viewer) error, error) { return playRTMP, nil }

// playRTMP plays an RTMP stream with the rtmp package's client. Media bytes
// counted are message payloads (FLV tag bodies, without chunk headers).
// Unlike the FLV players it allocates per message (the chunk reader
// returns fresh messages), with one time stamp per message.
func playRTMP(v *viewer) error {
	dctx, cancel := context.WithTimeout(v.r.ctx, dialTimeout)
	c, err := rtmp.Dial(dctx, v.r.cfg.URL)
	cancel()
	if err != nil {
		return err
	}
	// Closing the client at the end of the run unblocks ReadMessage.
	stop := context.AfterFunc(v.r.ctx, func() { c.Close() })
	defer func() {
		if stop() {
			c.Close()
		}
	}()
	if err := c.Play(v.r.ctx); err != nil {
		return err
	}
	v.connected()
	for {
		m, err := c.ReadMessage()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return errStreamEnded
			}
			return fmt.Errorf("rtmp read: %w", err)
		}
		now := v.r.now()
		v.bytes.Add(int64(len(m.Data)))
		if m.Type == rtmp.TypeVideo {
			var b0, b1 byte
			if len(m.Data) > 0 {
				b0 = m.Data[0]
			}
			if len(m.Data) > 1 {
				b1 = m.Data[1]
			}
			v.videoTag(m.Timestamp, classifyVideo(b0, b1, len(m.Data)), now)
		}
	}
}
