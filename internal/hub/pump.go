package hub

import (
	"context"
	"time"

	"roomcast/internal/media"
)

// BatchWriter writes a batch of shared, read-only byte slices to one viewer,
// ideally in one system call (writev). It must not keep or modify the slices.
type BatchWriter interface {
	WriteBatch(bufs [][]byte) (int, error)
}

// Pump delivers the stream to w in format until ctx ends, the stream ends
// (ErrEnded), the viewer is too slow (ErrSlow) or a write fails. first, if
// not nil, is called once with the first batch's frames and may return bytes
// to send before them (a file header). Pump reuses its buffers: one viewer
// costs two slices, whatever its bitrate.
func (sub *Subscriber) Pump(ctx context.Context, w BatchWriter, format Format, encode func(*media.Packet) []byte, first func([]*Frame) []byte) error {
	if ctx.Done() != nil {
		stop := context.AfterFunc(ctx, sub.wakeUp)
		defer stop()
	}
	var frames []*Frame
	var bufs [][]byte
	for {
		var err error
		frames, err = sub.next(ctx, frames, true)
		if err != nil {
			return err
		}
		bufs = bufs[:0]
		if first != nil {
			if h := first(frames); len(h) > 0 {
				bufs = append(bufs, h)
			}
			first = nil
		}
		for _, f := range frames {
			bufs = append(bufs, f.Bytes(format, encode))
		}
		n, err := w.WriteBatch(bufs)
		sub.stream.AddBytesOut(n)
		clear(bufs)
		if err != nil {
			clear(frames)
			return err
		}
		sub.observeLatency(frames)
		clear(frames) // let the ring release old frames
	}
}

// observeLatency records the server-added latency of the live frames just
// written.
func (sub *Subscriber) observeLatency(frames []*Frame) {
	now := time.Now().UnixNano()
	h := &sub.stream.latency
	for _, f := range frames {
		if f.arrival >= sub.joined {
			h.observe(time.Duration(now - f.arrival))
		}
	}
}
