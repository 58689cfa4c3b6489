package rtmp

import (
	"bytes"
	"errors"
	"slices"
	"testing"
)

func TestControlMessages(t *testing.T) {
	tests := []struct {
		name string
		m    *Message
		typ  uint8
		data []byte
	}{
		{"set chunk size", NewSetChunkSize(4096), TypeSetChunkSize, []byte{0, 0, 0x10, 0}},
		{"abort", NewAbort(4), TypeAbort, []byte{0, 0, 0, 4}},
		{"ack", NewAck(0x01020304), TypeAck, []byte{1, 2, 3, 4}},
		{"window ack size", NewWindowAckSize(2500000), TypeWindowAckSize, []byte{0x00, 0x26, 0x25, 0xa0}},
		{"set peer bandwidth", NewSetPeerBandwidth(2500000, LimitDynamic), TypeSetPeerBandwidth, []byte{0x00, 0x26, 0x25, 0xa0, 2}},
		{"stream begin", NewStreamBegin(1), TypeUserControl, []byte{0, 0, 0, 0, 0, 1}},
		{"stream eof", NewStreamEOF(1), TypeUserControl, []byte{0, 1, 0, 0, 0, 1}},
		{"stream dry", NewStreamDry(1), TypeUserControl, []byte{0, 2, 0, 0, 0, 1}},
		{"set buffer length", NewSetBufferLength(1, 3000), TypeUserControl, []byte{0, 3, 0, 0, 0, 1, 0, 0, 0x0b, 0xb8}},
		{"stream is recorded", NewStreamIsRecorded(1), TypeUserControl, []byte{0, 4, 0, 0, 0, 1}},
		{"ping request", NewPingRequest(99), TypeUserControl, []byte{0, 6, 0, 0, 0, 99}},
		{"ping response", NewPingResponse(99), TypeUserControl, []byte{0, 7, 0, 0, 0, 99}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.m.Type != tt.typ || tt.m.ChunkStreamID != CSIDControl || tt.m.StreamID != 0 || tt.m.Timestamp != 0 {
				t.Fatalf("header = %+v", tt.m)
			}
			if !bytes.Equal(tt.m.Data, tt.data) {
				t.Fatalf("data = % x, want % x", tt.m.Data, tt.data)
			}
		})
	}
}

func TestParseControl(t *testing.T) {
	if v, err := ParseUint32([]byte{0, 0, 1, 0}); err != nil || v != 256 {
		t.Fatalf("ParseUint32 = %d, %v", v, err)
	}
	if _, err := ParseUint32([]byte{1}); !errors.Is(err, ErrProtocol) {
		t.Fatalf("ParseUint32 short = %v", err)
	}
	if size, limit, err := ParseSetPeerBandwidth(NewSetPeerBandwidth(7, LimitSoft).Data); err != nil || size != 7 || limit != LimitSoft {
		t.Fatalf("ParseSetPeerBandwidth = %d, %d, %v", size, limit, err)
	}
	if _, _, err := ParseSetPeerBandwidth([]byte{0, 0, 0, 1}); !errors.Is(err, ErrProtocol) {
		t.Fatalf("ParseSetPeerBandwidth short = %v", err)
	}
}

func TestParseUserControl(t *testing.T) {
	tests := []struct {
		name    string
		data    []byte
		event   uint16
		values  []uint32
		wantErr bool
	}{
		{"stream begin", NewStreamBegin(5).Data, EventStreamBegin, []uint32{5}, false},
		{"ping", NewPingRequest(1234).Data, EventPingRequest, []uint32{1234}, false},
		{"buffer length", NewSetBufferLength(1, 500).Data, EventSetBufferLength, []uint32{1, 500}, false},
		{"unknown event without values", []byte{0, 26}, 26, []uint32{}, false},
		{"trailing bytes ignored", []byte{0, 7, 0, 0, 0, 9, 1}, EventPingResponse, []uint32{9}, false},
		{"too short", []byte{0}, 0, nil, true},
		{"ping without value", []byte{0, 6, 0, 0}, EventPingRequest, nil, true},
		{"buffer length with one value", []byte{0, 3, 0, 0, 0, 1}, EventSetBufferLength, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			event, values, err := ParseUserControl(tt.data)
			if tt.wantErr {
				if !errors.Is(err, ErrProtocol) {
					t.Fatalf("error = %v, want ErrProtocol", err)
				}
				return
			}
			if err != nil || event != tt.event || !slices.Equal(values, tt.values) {
				t.Fatalf("ParseUserControl = %d, %v, %v; want %d, %v", event, values, err, tt.event, tt.values)
			}
		})
	}
}
