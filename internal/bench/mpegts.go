package bench

import (
	"errors"
	"fmt"
)

// errTSSync reports an MPEG-TS packet without its sync byte.
var errTSSync = errors.New("bench: MPEG-TS sync byte missing")

const tsPacketLen = 188

// frameSink receives video frames found in a container.
type frameSink interface {
	// frame records a video frame with timestamp tsUS (µs) that arrived at
	// now (µs since the run started).
	frame(tsUS, now int64)
}

// tsScanner finds the decode timestamps of video PES packets in an MPEG-TS
// byte stream fed in arbitrary pieces. It reads only the PAT, the PMT and
// PES headers, and does not allocate.
type tsScanner struct {
	sink     frameSink
	carry    [tsPacketLen]byte
	cn       int
	pmtPID   int // -1 until the PAT is seen
	videoPID int // -1 until the PMT is seen
}

func newTSScanner(sink frameSink) *tsScanner {
	return &tsScanner{sink: sink, pmtPID: -1, videoPID: -1}
}

// reset drops a partial packet, for the start of a new segment.
func (s *tsScanner) reset() { s.cn = 0 }

// feed consumes p, received at now.
func (s *tsScanner) feed(p []byte, now int64) error {
	if s.cn > 0 {
		k := copy(s.carry[s.cn:], p)
		s.cn += k
		p = p[k:]
		if s.cn < tsPacketLen {
			return nil
		}
		s.cn = 0
		if err := s.packet(s.carry[:], now); err != nil {
			return err
		}
	}
	for len(p) >= tsPacketLen {
		if err := s.packet(p[:tsPacketLen], now); err != nil {
			return err
		}
		p = p[tsPacketLen:]
	}
	s.cn = copy(s.carry[:], p)
	return nil
}

func (s *tsScanner) packet(pkt []byte, now int64) error {
	if pkt[0] != 0x47 {
		return errTSSync
	}
	if pkt[1]&0x40 == 0 { // only payload unit starts matter
		return nil
	}
	pid := int(pkt[1]&0x1f)<<8 | int(pkt[2])
	afc := pkt[3] >> 4 & 3
	off := 4
	if afc&2 != 0 {
		off += 1 + int(pkt[4])
	}
	if afc&1 == 0 || off >= tsPacketLen {
		return nil
	}
	pl := pkt[off:]
	switch pid {
	case 0:
		s.parsePAT(pl)
	case s.pmtPID:
		s.parsePMT(pl)
	case s.videoPID:
		if ts, ok := pesTimestamp(pl); ok {
			s.sink.frame(ts*100/9, now) // 90 kHz to µs
		}
	}
	return nil
}

// psiSection returns the section starting in a PSI payload (after the
// pointer field), cut to its section_length without the CRC, if it has
// table id want.
func psiSection(pl []byte, want byte) ([]byte, bool) {
	if len(pl) < 1 || int(pl[0])+1+3 > len(pl) {
		return nil, false
	}
	sec := pl[1+int(pl[0]):]
	if sec[0] != want {
		return nil, false
	}
	end := 3 + (int(sec[1]&0x0f)<<8 | int(sec[2])) - 4
	if end > len(sec) || end < 8 {
		return nil, false
	}
	return sec[:end], true
}

func (s *tsScanner) parsePAT(pl []byte) {
	sec, ok := psiSection(pl, 0)
	if !ok {
		return
	}
	for i := 8; i+4 <= len(sec); i += 4 {
		if prog := int(sec[i])<<8 | int(sec[i+1]); prog != 0 {
			s.pmtPID = int(sec[i+2]&0x1f)<<8 | int(sec[i+3])
			return
		}
	}
}

func (s *tsScanner) parsePMT(pl []byte) {
	sec, ok := psiSection(pl, 2)
	if !ok || len(sec) < 12 {
		return
	}
	i := 12 + (int(sec[10]&0x0f)<<8 | int(sec[11]))
	for i+5 <= len(sec) {
		st := sec[i]
		pid := int(sec[i+1]&0x1f)<<8 | int(sec[i+2])
		switch st {
		case 0x01, 0x02, 0x10, 0x1b, 0x24: // MPEG-1/2/4 video, H.264, H.265
			s.videoPID = pid
			return
		}
		i += 5 + (int(sec[i+3]&0x0f)<<8 | int(sec[i+4]))
	}
}

// pesTimestamp returns the DTS of a PES packet start, or its PTS when it
// has no DTS, in 90 kHz units.
func pesTimestamp(pl []byte) (int64, bool) {
	if len(pl) < 14 || pl[0] != 0 || pl[1] != 0 || pl[2] != 1 {
		return 0, false
	}
	flags := pl[7] >> 6
	switch {
	case flags == 3 && len(pl) >= 19:
		return decodeTS(pl[14:19]), true
	case flags&2 != 0:
		return decodeTS(pl[9:14]), true
	}
	return 0, false
}

// decodeTS decodes a 33-bit PES timestamp.
func decodeTS(b []byte) int64 {
	return int64(b[0]>>1&7)<<30 | int64(b[1])<<22 | int64(b[2]>>1)<<15 | int64(b[3])<<7 | int64(b[4]>>1)
}

// String is for debugging.
func (s *tsScanner) String() string {
	return fmt.Sprintf("ts{pmt %d video %d}", s.pmtPID, s.videoPID)
}
