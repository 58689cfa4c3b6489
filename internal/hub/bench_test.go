package hub

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"

	"roomcast/internal/media"
)

type discardBatch struct{ n int }

func (d *discardBatch) WriteBatch(b [][]byte) (int, error) {
	n := 0
	for _, p := range b {
		n += len(p)
	}
	d.n += n
	return n, nil
}

func encodeCopy(p *media.Packet) []byte { return append([]byte(nil), p.Data...) }

// benchHub is a hub for the benchmarks: no coalescing, queues that never
// drop, no reconnect grace.
func benchHub() *Hub {
	return New(Config{FlushInterval: -1, QueueFrames: 1 << 20, QueueBytes: 1 << 30, ReconnectGrace: -1}, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

// startPumps subscribes n FLV viewers to stream "s" of h, each pumping
// into its own writer from newWriter until ctx ends or the stream does.
// Wait on the returned group for them to close.
func startPumps(ctx context.Context, b *testing.B, h *Hub, n int, newWriter func() BatchWriter) *sync.WaitGroup {
	b.Helper()
	wg := &sync.WaitGroup{}
	for range n {
		sub, err := h.Subscribe("s", "flv")
		if err != nil {
			b.Fatal(err)
		}
		w := newWriter()
		wg.Go(func() {
			defer sub.Close()
			_ = sub.Pump(ctx, w, FormatFLV, encodeCopy, nil)
		})
	}
	return wg
}

// BenchmarkFanout measures delivering one packet to N subscribers that pump
// it in the shared FLV encoding: the per-viewer cost of the hub itself,
// without sockets.
func BenchmarkFanout(b *testing.B) {
	for _, viewers := range []int{1, 100, 1000} {
		b.Run(fmt.Sprintf("viewers=%d", viewers), func(b *testing.B) {
			h := benchHub()
			p, _ := h.Publish("s", PublisherInfo{})
			ctx, cancel := context.WithCancel(context.Background())
			wg := startPumps(ctx, b, h, viewers, func() BatchWriter { return &discardBatch{} })
			body := make([]byte, 1000)
			body[0], body[1] = 0x27, 1
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				body := body
				if i%50 == 0 {
					body = append([]byte{0x17}, body[1:]...)
				}
				pkt, _ := media.NewPacket(media.TagVideo, int64(i), body)
				if err := p.Write(pkt); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			cancel()
			h.Close()
			wg.Wait()
		})
	}
}

// countBatch counts delivered frames and signals done when target is
// reached.
type countBatch struct {
	delivered *atomic.Int64
	target    *atomic.Int64
	done      chan struct{}
}

func (c countBatch) WriteBatch(b [][]byte) (int, error) {
	if c.delivered.Add(int64(len(b))) == c.target.Load() {
		c.done <- struct{}{}
	}
	return 0, nil
}

// BenchmarkWakeUp measures one wake-up cycle of N waiting viewers: a
// packet is broadcast, every viewer collects it, "writes" it and waits
// again. It isolates the hub's per-viewer wake-up cost (the part of a
// viewer's CPU that is not the write system call). Run it with -cpu 1, as
// the fan-out benchmark's pinned server runs.
func BenchmarkWakeUp(b *testing.B) {
	for _, viewers := range []int{100, 1000, 3000} {
		b.Run(fmt.Sprintf("viewers=%d", viewers), func(b *testing.B) {
			h := benchHub()
			p, _ := h.Publish("s", PublisherInfo{})
			body := make([]byte, 1000)
			body[0], body[1] = 0x17, 1
			pkt, _ := media.NewPacket(media.TagVideo, 0, append([]byte(nil), body...))
			if err := p.Write(pkt); err != nil {
				b.Fatal(err)
			}
			var delivered, target atomic.Int64
			target.Store(int64(viewers))
			done := make(chan struct{}, 1)
			ctx, cancel := context.WithCancel(context.Background())
			wg := startPumps(ctx, b, h, viewers, func() BatchWriter { return countBatch{&delivered, &target, done} })
			<-done // every viewer has the keyframe and waits
			body[0] = 0x27
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				delivered.Store(0)
				pkt, _ := media.NewPacket(media.TagVideo, int64(i+1), body)
				if err := p.Write(pkt); err != nil {
					b.Fatal(err)
				}
				<-done
			}
			b.StopTimer()
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(viewers), "ns/viewer")
			cancel()
			wg.Wait()
			p.Close(nil)
		})
	}
}

// countDirect is a DirectWriter that takes everything and signals done
// when the target number of buffers was delivered.
type countDirect struct{ countBatch }

func (c countDirect) TryWriteBatch(b [][]byte) (int, bool, error) {
	n := 0
	for _, p := range b {
		n += len(p)
	}
	_, err := c.WriteBatch(b)
	return n, true, err
}

// BenchmarkDeliver is BenchmarkWakeUp for delivered viewers: one packet is
// broadcast and the stream's delivery loop writes it to every viewer; no
// goroutine per viewer wakes up. Run it with -cpu 1.
func BenchmarkDeliver(b *testing.B) {
	for _, viewers := range []int{100, 1000, 3000} {
		b.Run(fmt.Sprintf("viewers=%d", viewers), func(b *testing.B) {
			h := benchHub()
			p, _ := h.Publish("s", PublisherInfo{})
			body := make([]byte, 1000)
			body[0], body[1] = 0x17, 1
			pkt, _ := media.NewPacket(media.TagVideo, 0, append([]byte(nil), body...))
			if err := p.Write(pkt); err != nil {
				b.Fatal(err)
			}
			var delivered, target atomic.Int64
			target.Store(int64(viewers))
			done := make(chan struct{}, 1)
			subs := make([]*Subscriber, viewers)
			for i := range subs {
				sub, err := h.Subscribe("s", "flv")
				if err != nil {
					b.Fatal(err)
				}
				subs[i] = sub
				sub.Deliver(Delivery{Writer: countDirect{countBatch{&delivered, &target, done}}, Format: FormatFLV, Encode: encodeCopy})
			}
			<-done // every viewer has the keyframe
			body[0] = 0x27
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				delivered.Store(0)
				pkt, _ := media.NewPacket(media.TagVideo, int64(i+1), body)
				if err := p.Write(pkt); err != nil {
					b.Fatal(err)
				}
				<-done
			}
			b.StopTimer()
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(viewers), "ns/viewer")
			for _, sub := range subs {
				sub.Close()
			}
			p.Close(nil)
		})
	}
}
