package rtmp

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"roomcast/internal/hub"
	"roomcast/internal/media"
	"roomcast/internal/protocol/amf"
	"roomcast/internal/protocol/rtmp"
	"roomcast/internal/quota"
)

// Status codes sent in onStatus and _error replies.
const (
	codeConnectSuccess   = "NetConnection.Connect.Success"
	codeConnectRejected  = "NetConnection.Connect.Rejected"
	codeCallFailed       = "NetConnection.Call.Failed"
	codePublishStart     = "NetStream.Publish.Start"
	codePublishBadName   = "NetStream.Publish.BadName"
	codePublishRejected  = "NetStream.Publish.Rejected"
	codeUnpublishSuccess = "NetStream.Unpublish.Success"
	codePlayReset        = "NetStream.Play.Reset"
	codePlayStart        = "NetStream.Play.Start"
	codePlayStop         = "NetStream.Play.Stop"
	codePlayNotFound     = "NetStream.Play.StreamNotFound"
	codePlayFailed       = "NetStream.Play.Failed"
	codeUnpublishNotify  = "NetStream.Play.UnpublishNotify"
)

const nameRule = "stream names are 1-128 characters of A-Z a-z 0-9 _ -"

func status(level, code, description string) amf.Object {
	return amf.Object{
		{Key: "level", Value: level},
		{Key: "code", Value: code},
		{Key: "description", Value: description},
	}
}

// reply sends a command message on the command chunk stream.
func (c *conn) reply(name string, txID float64, streamID uint32, obj any, args ...any) error {
	cmd := &rtmp.Command{Name: name, TransactionID: txID, Object: obj, Args: args}
	m, err := cmd.Message(csidCommand, streamID)
	if err != nil {
		return fmt.Errorf("encode %s: %w", name, err)
	}
	return c.write(m)
}

// onStatus sends an onStatus event on a message stream.
func (c *conn) onStatus(streamID uint32, level, code, description string) error {
	return c.reply("onStatus", 0, streamID, nil, status(level, code, description))
}

// refuse sends an error status and ends the connection.
func (c *conn) refuse(streamID uint32, code, description string) error {
	c.log.Info("request refused", "code", code, "description", description)
	if err := c.onStatus(streamID, "error", code, description); err != nil {
		return err
	}
	return fmt.Errorf("%w: %s: %s", errRejected, code, description)
}

func (c *conn) onCommand(ctx context.Context, cmd *rtmp.Command, streamID uint32) error {
	if cmd.Name == "connect" {
		return c.onConnect(cmd)
	}
	if !c.connected {
		return fmt.Errorf("command %q before connect", cmd.Name)
	}
	switch cmd.Name {
	case "releaseStream", "FCPublish":
		return c.result(cmd.TransactionID, nil, amf.Undefined{})
	case "createStream":
		c.streams++
		return c.result(cmd.TransactionID, nil, float64(c.streams))
	case "publish":
		return c.onPublish(ctx, cmd, streamID)
	case "play":
		return c.onPlay(ctx, cmd, streamID)
	case "FCUnpublish", "deleteStream", "closeStream":
		c.stopStream(streamID)
		return c.result(cmd.TransactionID, nil, amf.Undefined{})
	case "getStreamLength":
		return c.result(cmd.TransactionID, nil, float64(0))
	case "_checkbw":
		return c.result(cmd.TransactionID, nil, amf.Undefined{})
	case "pause", "receiveAudio", "receiveVideo", "seek", "_result", "_error", "onBWDone", "onStatus":
		return nil
	default:
		c.log.Debug("unknown command", "command", cmd.Name)
		if cmd.TransactionID == 0 {
			return nil
		}
		return c.reply("_error", cmd.TransactionID, 0, nil, status("error", codeCallFailed, "unknown command "+cmd.Name))
	}
}

// result answers a call that expects a reply; calls with transaction id 0
// expect none.
func (c *conn) result(txID float64, obj any, args ...any) error {
	if txID == 0 {
		return nil
	}
	return c.reply("_result", txID, 0, obj, args...)
}

func (c *conn) onConnect(cmd *rtmp.Command) error {
	if c.connected {
		return fmt.Errorf("second connect")
	}
	obj, _ := cmd.Object.(amf.Object)
	appField := obj.String("app")
	c.tcURL = obj.String("tcUrl")
	app, appQuery := splitQuery(strings.Trim(appField, "/"))
	_, tcQuery := splitQuery(c.tcURL)
	c.query = merge(tcQuery, appQuery)
	if app != c.srv.cfg.App {
		desc := fmt.Sprintf("unknown application %q: publish and play under /%s/", app, c.srv.cfg.App)
		c.log.Info("connect refused", "app", app)
		_ = c.reply("_error", cmd.TransactionID, 0, nil, status("error", codeConnectRejected, desc))
		return fmt.Errorf("%w: %s", errRejected, desc)
	}
	c.connected = true
	enc := obj.Number("objectEncoding")
	for _, m := range []*rtmp.Message{rtmp.NewWindowAckSize(windowAckSize), rtmp.NewSetPeerBandwidth(peerBandwidth, 2)} {
		if err := c.write(m); err != nil {
			return err
		}
	}
	if err := c.setChunkSize(c.srv.cfg.ChunkSize); err != nil {
		return err
	}
	props := amf.Object{{Key: "fmsVer", Value: "FMS/3,0,1,123"}, {Key: "capabilities", Value: float64(31)}, {Key: "mode", Value: float64(1)}}
	info := append(status("status", codeConnectSuccess, "Connection succeeded."), amf.Property{Key: "objectEncoding", Value: enc})
	return c.reply("_result", cmd.TransactionID, 0, props, info)
}

func (c *conn) setChunkSize(n int) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := c.cw.SetChunkSize(n); err != nil {
		return fmt.Errorf("set chunk size: %w", err)
	}
	return nil
}

// request builds an authorization request from a stream argument.
func (c *conn) request(arg string) Request {
	name, q := splitQuery(arg)
	return Request{
		App:        c.srv.cfg.App,
		Stream:     name,
		Query:      merge(c.query, q),
		TcURL:      c.tcURL,
		RemoteAddr: c.nc.RemoteAddr().String(),
	}
}

func streamArg(cmd *rtmp.Command) string {
	if len(cmd.Args) == 0 {
		return ""
	}
	s, _ := cmd.Args[0].(string)
	return s
}

func (c *conn) onPublish(ctx context.Context, cmd *rtmp.Command, streamID uint32) error {
	if c.pub != nil || c.player != nil {
		return c.refuse(streamID, codePublishBadName, "this connection is already publishing or playing")
	}
	req := c.request(streamArg(cmd))
	if !media.ValidName(req.Stream) {
		return c.refuse(streamID, codePublishBadName, fmt.Sprintf("invalid stream name %q: %s", req.Stream, nameRule))
	}
	if a := c.srv.cfg.Authorizer; a != nil {
		if err := a.AuthorizePublish(ctx, req); err != nil {
			if errors.Is(err, quota.ErrExceeded) {
				return c.refuse(streamID, codePublishRejected, "quota_exceeded: "+err.Error())
			}
			return c.refuse(streamID, codePublishBadName, err.Error())
		}
	}
	p, err := c.srv.hub.Publish(req.Stream, hub.PublisherInfo{
		Protocol: "rtmp", RemoteAddr: req.RemoteAddr, Query: req.Query.Encode(),
	})
	if errors.Is(err, hub.ErrStreamBusy) {
		return c.refuse(streamID, codePublishBadName, fmt.Sprintf("stream %q is already being published", req.Stream))
	}
	if errors.Is(err, hub.ErrTooManyPublishers) {
		return c.refuse(streamID, codePublishRejected, "the server has too many publishers; try again later")
	}
	if err != nil {
		return c.refuse(streamID, codePublishBadName, err.Error())
	}
	c.pub, c.pubStream = p, req.Stream
	c.log = c.log.With("stream", req.Stream, "role", "publisher")
	c.rd.every(c.srv.cfg.ReadTimeout)
	c.log.Info("publishing")
	if err := c.write(rtmp.NewStreamBegin(streamID)); err != nil {
		return err
	}
	return c.onStatus(streamID, "status", codePublishStart, req.Stream+" is now published.")
}

func (c *conn) onPlay(ctx context.Context, cmd *rtmp.Command, streamID uint32) error {
	if c.pub != nil || c.player != nil {
		return c.refuse(streamID, codePlayFailed, "this connection is already publishing or playing")
	}
	req := c.request(streamArg(cmd))
	if !media.ValidName(req.Stream) {
		return c.refuse(streamID, codePlayNotFound, fmt.Sprintf("invalid stream name %q: %s", req.Stream, nameRule))
	}
	if a := c.srv.cfg.Authorizer; a != nil {
		if err := a.AuthorizePlay(ctx, req); err != nil {
			return c.refuse(streamID, codePlayFailed, err.Error())
		}
	}
	protocol := "rtmp"
	if f := c.srv.cfg.Internal; f != nil && f(req) {
		protocol = "" // another node's relay
	}
	sub, err := c.srv.hub.Subscribe(req.Stream, protocol)
	switch {
	case errors.Is(err, hub.ErrNotFound):
		return c.refuse(streamID, codePlayNotFound, fmt.Sprintf("stream %q is not live", req.Stream))
	case err != nil:
		return c.refuse(streamID, codePlayFailed, err.Error())
	}
	c.log = c.log.With("stream", req.Stream, "role", "player")
	c.rd.until(time.Time{}) // players may stay silent; writes time out instead
	for _, m := range []*rtmp.Message{rtmp.NewStreamIsRecorded(streamID), rtmp.NewStreamBegin(streamID)} {
		if err := c.write(m); err != nil {
			sub.Close()
			return err
		}
	}
	if err := c.onStatus(streamID, "status", codePlayReset, "Playing and resetting "+req.Stream+"."); err != nil {
		sub.Close()
		return err
	}
	if err := c.onStatus(streamID, "status", codePlayStart, "Started playing "+req.Stream+"."); err != nil {
		sub.Close()
		return err
	}
	if err := c.sendSampleAccess(streamID); err != nil {
		sub.Close()
		return err
	}
	c.log.Info("playing")
	c.player = c.startPlayer(sub, streamID)
	return nil
}

func (c *conn) sendSampleAccess(streamID uint32) error {
	body, err := amf.Append(nil, "|RtmpSampleAccess", true, true)
	if err != nil {
		return err
	}
	return c.write(&rtmp.Message{Type: rtmp.TypeDataAMF0, ChunkStreamID: csidData, StreamID: streamID, Data: body})
}

// stopStream ends publishing or playing on a message stream at the client's
// request; the connection stays open.
func (c *conn) stopStream(streamID uint32) {
	if c.pub != nil {
		c.log.Info("unpublished by client")
		c.pub.Close(nil)
		c.pub = nil
		_ = c.onStatus(streamID, "status", codeUnpublishSuccess, c.pubStream+" is now unpublished.")
	}
	if c.player != nil {
		c.player.stop()
		c.player = nil
		// No longer playing: a client that then says nothing is idle.
		c.rd.every(c.srv.cfg.ReadTimeout)
	}
}

// onData handles @setDataFrame/onMetaData and other data messages from a
// publisher: they are passed on to viewers as script tags.
func (c *conn) onData(m *rtmp.Message) error {
	if c.pub == nil {
		return nil
	}
	vals, err := rtmp.ParseData(m)
	if err != nil {
		return fmt.Errorf("malformed data message: %w", err)
	}
	if len(vals) > 0 && vals[0] == "@setDataFrame" {
		vals = vals[1:]
	}
	if len(vals) == 0 {
		return nil
	}
	if _, ok := vals[0].(string); !ok {
		return nil
	}
	body, err := amf.Append(nil, vals...)
	if err != nil {
		return fmt.Errorf("re-encode data message: %w", err)
	}
	pkt, err := media.NewPacket(media.TagScript, c.unwrappers[1].Unwrap(m.Timestamp), body)
	if err != nil {
		return err
	}
	return c.publish(pkt)
}

func (c *conn) onMedia(m *rtmp.Message) error {
	if c.pub == nil || len(m.Data) == 0 {
		return nil
	}
	track := 0
	if m.Type == rtmp.TypeVideo {
		track = 1
	}
	pkt, err := media.NewPacket(media.TagType(m.Type), c.unwrappers[track].Unwrap(m.Timestamp), m.Data)
	if err != nil {
		return fmt.Errorf("malformed media message: %w", err)
	}
	return c.publish(pkt)
}

func (c *conn) publish(pkt *media.Packet) error {
	if err := c.pub.Write(pkt); err != nil {
		c.pub = nil
		if errors.Is(err, hub.ErrKicked) || errors.Is(err, hub.ErrTakenOver) {
			return fmt.Errorf("%w: %w", errRejected, err)
		}
		return err
	}
	return nil
}
