// Package rtph264 converts H.264 access units to RTP packets (RFC 6184,
// packetization-mode 1) and back. It holds wire formats only: no sockets,
// no hub.
package rtph264

import (
	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
)

// NAL unit types used here.
const (
	NALTypeIDR    = 5
	NALTypeSPS    = 7
	NALTypePPS    = 8
	NALTypeAUD    = 9
	NALTypeFiller = 12
	nalTypeSTAPA  = 24
	nalTypeFUA    = 28
)

// DefaultMTU is the RTP payload size used when Packetizer.MTU is zero: small
// enough for any path that carries WebRTC.
const DefaultMTU = 1200

// Packetizer splits access units into RTP packets: single NAL unit packets,
// STAP-A for the parameter sets with the NAL unit that follows them, FU-A
// for NAL units larger than the MTU. Its zero value is usable; it is not
// safe for concurrent use.
type Packetizer struct {
	// MTU bounds an RTP payload (DefaultMTU when zero).
	MTU int
	// PayloadType and SSRC go into every packet header (a pion
	// TrackLocalStaticRTP rewrites both per peer).
	PayloadType uint8
	SSRC        uint32

	seq       uint16
	payloader codecs.H264Payloader
}

// SetSequence sets the sequence number of the next packet.
func (p *Packetizer) SetSequence(seq uint16) { p.seq = seq }

// Packetize returns the RTP packets of one access unit given as NAL units
// (without start codes or length prefixes), all with timestamp ts; the last
// carries the marker bit. Parameter sets given first are packed with the
// next NAL unit. Access unit delimiters and filler data are dropped. The
// payloads are copies: nalus may be shared.
func (p *Packetizer) Packetize(nalus [][]byte, ts uint32) []*rtp.Packet {
	mtu := p.MTU
	if mtu <= 0 {
		mtu = DefaultMTU
	}
	var payloads [][]byte
	for _, n := range nalus {
		if len(n) == 0 {
			continue
		}
		payloads = append(payloads, p.payloader.Payload(uint16(mtu), n)...)
	}
	out := make([]*rtp.Packet, len(payloads))
	for i, pl := range payloads {
		out[i] = &rtp.Packet{
			Header: rtp.Header{
				Version:        2,
				PayloadType:    p.PayloadType,
				SequenceNumber: p.seq,
				Timestamp:      ts,
				SSRC:           p.SSRC,
				Marker:         i == len(payloads)-1,
			},
			Payload: pl,
		}
		p.seq++
	}
	return out
}
