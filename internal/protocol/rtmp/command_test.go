package rtmp

import (
	"errors"
	"reflect"
	"testing"

	"roomcast/internal/protocol/amf"
)

func amf0(t *testing.T, vals ...any) []byte {
	t.Helper()
	b, err := amf.Append(nil, vals...)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseCommand(t *testing.T) {
	connectObj := amf.Object{{Key: "app", Value: "live"}, {Key: "objectEncoding", Value: 3.0}}
	tests := []struct {
		name string
		m    *Message
		want *Command
		err  error
	}{
		{
			name: "amf0 connect",
			m:    &Message{Type: TypeCommandAMF0, Data: amf0(t, "connect", 1, connectObj)},
			want: &Command{Name: "connect", TransactionID: 1, Object: connectObj},
		},
		{
			name: "amf0 publish",
			m:    &Message{Type: TypeCommandAMF0, Data: amf0(t, "publish", 5, nil, "s?k=1", "live")},
			want: &Command{Name: "publish", TransactionID: 5, Args: []any{"s?k=1", "live"}},
		},
		{
			name: "name only",
			m:    &Message{Type: TypeCommandAMF0, Data: amf0(t, "onBWDone")},
			want: &Command{Name: "onBWDone"},
		},
		{
			name: "amf3 command with format byte",
			m:    &Message{Type: TypeCommandAMF3, Data: append([]byte{0}, amf0(t, "createStream", 2, nil)...)},
			want: &Command{Name: "createStream", TransactionID: 2},
		},
		{
			name: "amf3 command with avmplus values",
			m: &Message{Type: TypeCommandAMF3, Data: append(append([]byte{0}, amf0(t, "play", 0, nil)...),
				0x11, 0x06, 0x09, 'n', 'a', 'm', 'e')},
			want: &Command{Name: "play", Args: []any{"name"}},
		},
		{
			name: "amf3 command without format byte",
			m:    &Message{Type: TypeCommandAMF3, Data: amf0(t, "deleteStream", 0, nil, 1)},
			want: &Command{Name: "deleteStream", Args: []any{1.0}},
		},
		{name: "wrong type", m: &Message{Type: TypeAudio}, err: ErrProtocol},
		{name: "empty", m: &Message{Type: TypeCommandAMF0}, err: ErrProtocol},
		{name: "name not a string", m: &Message{Type: TypeCommandAMF0, Data: amf0(t, 1)}, err: ErrProtocol},
		{name: "bad amf", m: &Message{Type: TypeCommandAMF0, Data: []byte{0x02, 0, 9, 'x'}}, err: amf.ErrTruncated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseCommand(tt.m)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("error = %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("ParseCommand = %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestCommandMessageRoundTrip(t *testing.T) {
	c := &Command{Name: "onStatus", TransactionID: 0, Args: []any{StatusObject(LevelStatus, CodePublishStart, "go")}}
	m, err := c.Message(CSIDCommand, 1)
	if err != nil {
		t.Fatal(err)
	}
	if m.Type != TypeCommandAMF0 || m.ChunkStreamID != CSIDCommand || m.StreamID != 1 {
		t.Fatalf("header = %+v", m)
	}
	got, err := ParseCommand(m)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, c) {
		t.Fatalf("round trip = %#v, want %#v", got, c)
	}
	level, code, desc := statusInfo(got)
	if level != LevelStatus || code != CodePublishStart || desc != "go" {
		t.Fatalf("statusInfo = %q %q %q", level, code, desc)
	}
	if _, err := (&Command{Name: "x", Args: []any{make(chan int)}}).Message(3, 0); !errors.Is(err, amf.ErrUnsupportedType) {
		t.Fatalf("Message with bad arg = %v", err)
	}
}

func TestParseData(t *testing.T) {
	meta := amf.ECMAArray{{Key: "width", Value: 1280.0}}
	tests := []struct {
		name string
		m    *Message
		want []any
		err  error
	}{
		{"amf0", &Message{Type: TypeDataAMF0, Data: amf0(t, "@setDataFrame", "onMetaData", meta)}, []any{"@setDataFrame", "onMetaData", meta}, nil},
		{"amf3", &Message{Type: TypeDataAMF3, Data: append([]byte{0}, amf0(t, "onMetaData", meta)...)}, []any{"onMetaData", meta}, nil},
		{"wrong type", &Message{Type: TypeVideo}, nil, ErrProtocol},
		{"bad amf", &Message{Type: TypeDataAMF0, Data: []byte{0x42}}, nil, amf.ErrUnknownMarker},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseData(tt.m)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("error = %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("ParseData = %#v, %v", got, err)
			}
		})
	}
}

func TestStatusError(t *testing.T) {
	var err error = &StatusError{Code: CodePublishBadName, Description: "taken"}
	if err.Error() != "rtmp: NetStream.Publish.BadName: taken" {
		t.Fatalf("Error() = %q", err.Error())
	}
	if (&StatusError{Code: "X"}).Error() != "rtmp: X" {
		t.Fatal("Error() without description")
	}
	var se *StatusError
	if !errors.As(errors.Join(errors.New("ctx"), err), &se) || se.Code != CodePublishBadName {
		t.Fatal("errors.As")
	}
}
