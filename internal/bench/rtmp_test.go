package bench

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"roomcast/internal/protocol/rtmp"
)

// rtmpServer is a minimal live RTMP server built from the rtmp package's
// primitives: it accepts any connect and play and then sends 25 fps video
// timestamped with the time since start. Stream "missing" is refused.
type rtmpServer struct {
	t     *testing.T
	ln    net.Listener
	start time.Time
	wg    sync.WaitGroup
	done  chan struct{}
}

func newRTMPServer(t *testing.T) *rtmpServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &rtmpServer{t: t, ln: ln, start: time.Now().Add(-5 * time.Second), done: make(chan struct{})}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer c.Close()
				go func() { <-s.done; c.Close() }()
				s.serve(c)
			}()
		}
	}()
	t.Cleanup(func() {
		close(s.done)
		ln.Close()
		s.wg.Wait()
	})
	return s
}

func (s *rtmpServer) serve(c net.Conn) {
	if err := rtmp.ServerHandshake(c); err != nil {
		return
	}
	cr := rtmp.NewChunkReader(c, rtmp.Limits{})
	cw := rtmp.NewChunkWriter(c, rtmp.DefaultChunkSize)
	var wmu sync.Mutex
	write := func(m *rtmp.Message) error {
		wmu.Lock()
		defer wmu.Unlock()
		return cw.WriteMessage(m)
	}
	reply := func(sid uint32, name string, tx float64, args ...any) {
		m, err := (&rtmp.Command{Name: name, TransactionID: tx, Args: args}).Message(rtmp.CSIDCommand, sid)
		if err == nil {
			write(m)
		}
	}
	for {
		m, err := cr.ReadMessage()
		if err != nil {
			return
		}
		if m.Type != rtmp.TypeCommandAMF0 {
			continue
		}
		cmd, err := rtmp.ParseCommand(m)
		if err != nil {
			return
		}
		switch cmd.Name {
		case "connect":
			reply(0, "_result", cmd.TransactionID, rtmp.StatusObject(rtmp.LevelStatus, rtmp.CodeConnectSuccess, "ok"))
		case "createStream":
			reply(0, "_result", cmd.TransactionID, 1)
		case "play":
			if name, _ := cmd.Args[0].(string); name == "missing" {
				reply(m.StreamID, "onStatus", 0, rtmp.StatusObject(rtmp.LevelError, rtmp.CodePlayStreamNotFound, "no"))
				continue
			}
			reply(m.StreamID, "onStatus", 0, rtmp.StatusObject(rtmp.LevelStatus, rtmp.CodePlayStart, "go"))
			go s.media(m.StreamID, write)
		}
	}
}

func (s *rtmpServer) media(sid uint32, write func(*rtmp.Message) error) {
	send := func(body []byte) error {
		ts := uint32(time.Since(s.start).Milliseconds())
		return write(&rtmp.Message{Type: rtmp.TypeVideo, ChunkStreamID: rtmp.CSIDVideo, StreamID: sid, Timestamp: ts, Data: body})
	}
	if send([]byte{0x17, 0, 0, 0, 0, 1}) != nil || send([]byte{0x17, 1, 0, 0, 0, 1}) != nil {
		return
	}
	tick := time.NewTicker(40 * time.Millisecond)
	defer tick.Stop()
	body := make([]byte, 1000)
	body[0], body[1] = 0x27, 1
	for {
		select {
		case <-s.done:
			return
		case <-tick.C:
		}
		if send(body) != nil {
			return
		}
	}
}

func TestRunPlayRTMP(t *testing.T) {
	s := newRTMPServer(t)
	url := "rtmp://" + s.ln.Addr().String() + "/live/room"
	rep, err := RunPlay(context.Background(), Config{URL: url, Viewers: 3, Duration: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	checkHealthy(t, rep, 3)
	if rep.Protocol != ProtoRTMP {
		t.Errorf("protocol %s", rep.Protocol)
	}
	checkArrival(t, rep, arrivalUser)

	rep, err = RunPlay(context.Background(), Config{URL: "rtmp://" + s.ln.Addr().String() + "/live/missing", Viewers: 2, Duration: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Failed != 2 || len(rep.Errors) != 1 || !strings.Contains(rep.Errors[0].Message, rtmp.CodePlayStreamNotFound) {
		t.Errorf("missing stream: %+v", rep)
	}
}
