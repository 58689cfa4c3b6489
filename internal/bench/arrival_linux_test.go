//go:build linux

package bench

import (
	"encoding/binary"
	"io"
	"net"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// tcpPair returns both ends of a loopback TCP connection.
func tcpPair(t *testing.T) (client, server net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server, err = ln.Accept()
	if err != nil {
		client.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

// TestKernelArrival writes to a viewer's socket, waits 50 ms and reads: the
// kernel arrival time must be about 50 ms before the read returned, the
// user-space one at it.
func TestKernelArrival(t *testing.T) {
	const wait = 50 * time.Millisecond
	for _, mode := range []string{ArrivalKernel, ArrivalUser} {
		t.Run(mode, func(t *testing.T) {
			t0 := time.Now()
			r := &run{cfg: Config{Arrival: mode}, t0: t0, t0Wall: t0.UnixNano()}
			v := &viewer{r: r}
			client, server := tcpPair(t)
			cr := v.newConnReader(client)
			if r.arrival.err != nil || v.kernelArrival != (mode == ArrivalKernel) {
				t.Fatalf("kernel arrival %v, setup error %v", v.kernelArrival, r.arrival.err)
			}
			buf := make([]byte, 64)
			// The kernel turns timestamping on lazily for the first socket
			// that asks: the first segment may come without a stamp.
			for round := 0; round < 5; round++ {
				before := r.now()
				if _, err := server.Write([]byte("tag")); err != nil {
					t.Fatal(err)
				}
				time.Sleep(wait)
				n, at, err := cr.read(buf)
				done := r.now()
				if err != nil || n != 3 {
					t.Fatalf("read %d, %v", n, err)
				}
				if mode == ArrivalKernel && v.stampedReads == 0 {
					continue
				}
				early := time.Duration(done-at) * time.Microsecond
				t.Logf("round %d: arrival %d µs after the write began, %v before the read returned", round, at-before, early)
				if mode == ArrivalUser {
					if early > 5*time.Millisecond {
						t.Errorf("user-space arrival %v before the read returned", early)
					}
					return
				}
				// 1 ms of slack for the wall/monotonic relation.
				if at < before-1000 || early < wait-time.Millisecond || early > wait+40*time.Millisecond {
					t.Errorf("kernel arrival %d µs, write at %d µs, read returned at %d µs: want ~%v earlier", at, before, done, wait)
				}
				return
			}
			t.Fatalf("no kernel timestamp in 5 reads (%d reads, %d stamped)", v.reads, v.stampedReads)
		})
	}
}

func TestRxStampsEOFAndClose(t *testing.T) {
	client, server := tcpPair(t)
	rx, err := enableRxStamps(client)
	if err != nil {
		t.Fatal(err)
	}
	server.Write([]byte("x"))
	server.Close()
	buf := make([]byte, 8)
	if n, _, err := rx.read(buf); n != 1 || err != nil {
		t.Fatalf("read %d, %v", n, err)
	}
	if _, _, err := rx.read(buf); err != io.EOF {
		t.Fatalf("at the end: %v, want io.EOF", err)
	}
	// Closing the connection unblocks a waiting read.
	client2, _ := tcpPair(t)
	rx2, err := enableRxStamps(client2)
	if err != nil {
		t.Fatal(err)
	}
	time.AfterFunc(20*time.Millisecond, func() { client2.Close() })
	if _, _, err := rx2.read(buf); err == nil {
		t.Fatal("read on a closed connection succeeded")
	}
}

func TestRxStampsNoAlloc(t *testing.T) {
	client, server := tcpPair(t)
	rx, err := enableRxStamps(client)
	if err != nil {
		t.Fatal(err)
	}
	msg := make([]byte, 1000)
	buf := make([]byte, readBufSize)
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := server.Write(msg); err != nil {
			t.Fatal(err)
		}
		for got := 0; got < len(msg); {
			n, _, err := rx.read(buf)
			if err != nil {
				t.Fatal(err)
			}
			got += n
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per write and read", allocs)
	}
}

// cmsg builds one control message as the kernel lays it out.
func cmsg(level, typ int32, data []byte) []byte {
	b := make([]byte, unix.CmsgSpace(len(data)))
	l := uint64(unix.CmsgLen(len(data)))
	if cmsgLenSize == 8 {
		binary.NativeEndian.PutUint64(b, l)
	} else {
		binary.NativeEndian.PutUint32(b, uint32(l))
	}
	binary.NativeEndian.PutUint32(b[cmsgLenSize:], uint32(level))
	binary.NativeEndian.PutUint32(b[cmsgLenSize+4:], uint32(typ))
	copy(b[unix.CmsgLen(0):], data)
	return b
}

// timespecs encodes (sec, nsec) pairs as native timespecs.
func timespecs(v ...int64) []byte {
	b := make([]byte, 0, len(v)*int(timespecWord))
	for _, x := range v {
		if timespecWord == 8 {
			b = binary.NativeEndian.AppendUint64(b, uint64(x))
		} else {
			b = binary.NativeEndian.AppendUint32(b, uint32(x))
		}
	}
	return b
}

func TestParseRxStamp(t *testing.T) {
	stamp := cmsg(unix.SOL_SOCKET, unix.SCM_TIMESTAMPING, timespecs(1_700_000_000, 123_456_789, 0, 0, 0, 0))
	const want = 1_700_000_000_123_456_789
	other := cmsg(unix.SOL_SOCKET, unix.SCM_TIMESTAMPNS, timespecs(1, 2))
	truncated := append([]byte(nil), stamp...)
	truncated = truncated[:len(truncated)-8]
	short := cmsg(unix.SOL_SOCKET, unix.SCM_TIMESTAMPING, timespecs(1))
	ip := cmsg(unix.SOL_IP, unix.SCM_TIMESTAMPING, timespecs(1, 2, 0, 0, 0, 0))
	tests := []struct {
		name string
		b    []byte
		want int64
	}{
		{"none", nil, 0},
		{"timestamping", stamp, want},
		{"after another message", append(append([]byte(nil), other...), stamp...), want},
		{"only SCM_TIMESTAMPNS", other, 0},
		{"other level", ip, 0},
		{"truncated", truncated, 0},
		{"short data", short, 0},
		{"header only", stamp[:unix.CmsgLen(0)], 0},
		{"partial header", stamp[:5], 0},
	}
	for _, tt := range tests {
		if got := parseRxStamp(tt.b); got != tt.want {
			t.Errorf("%s: %d, want %d", tt.name, got, tt.want)
		}
	}
}

func FuzzParseRxStamp(f *testing.F) {
	f.Add(cmsg(unix.SOL_SOCKET, unix.SCM_TIMESTAMPING, timespecs(1, 2, 0, 0, 0, 0)))
	f.Add(append(cmsg(unix.SOL_SOCKET, unix.SCM_TIMESTAMPNS, timespecs(1, 2)),
		cmsg(unix.SOL_SOCKET, unix.SCM_TIMESTAMPING, timespecs(3, 4, 0, 0, 0, 0))...))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		parseRxStamp(b)
	})
}
