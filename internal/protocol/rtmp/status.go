package rtmp

import "roomcast/internal/protocol/amf"

// Status levels of an onStatus or _result information object.
const (
	LevelStatus  = "status"
	LevelWarning = "warning"
	LevelError   = "error"
)

// Common status codes.
const (
	CodeConnectSuccess     = "NetConnection.Connect.Success"
	CodeConnectRejected    = "NetConnection.Connect.Rejected"
	CodeConnectClosed      = "NetConnection.Connect.Closed"
	CodePublishStart       = "NetStream.Publish.Start"
	CodePublishBadName     = "NetStream.Publish.BadName"
	CodePublishDenied      = "NetStream.Publish.Denied"
	CodeUnpublishSuccess   = "NetStream.Unpublish.Success"
	CodePlayStart          = "NetStream.Play.Start"
	CodePlayReset          = "NetStream.Play.Reset"
	CodePlayStop           = "NetStream.Play.Stop"
	CodePlayStreamNotFound = "NetStream.Play.StreamNotFound"
	CodePlayFailed         = "NetStream.Play.Failed"
	CodePlayPublishNotify  = "NetStream.Play.PublishNotify"
	CodePlayUnpublish      = "NetStream.Play.UnpublishNotify"
)

// StatusError is a request the peer refused: an _error result or an
// onStatus with level "error". Code is the status code, such as
// "NetStream.Publish.BadName".
type StatusError struct {
	Code        string
	Description string
}

// Error implements error.
func (e *StatusError) Error() string {
	if e.Description == "" {
		return "rtmp: " + e.Code
	}
	return "rtmp: " + e.Code + ": " + e.Description
}

// StatusObject returns the information object of an onStatus or _result:
// level, code and description, in the order Flash sends them.
func StatusObject(level, code, description string) amf.Object {
	return amf.Object{
		{Key: "level", Value: level},
		{Key: "code", Value: code},
		{Key: "description", Value: description},
	}
}

// statusInfo finds the information object of a command: the first argument
// for onStatus and _error, or the command object when there are no
// arguments. It returns level, code and description.
func statusInfo(c *Command) (level, code, description string) {
	candidates := append([]any{}, c.Args...)
	candidates = append(candidates, c.Object)
	for _, v := range candidates {
		props, ok := amf.Properties(v)
		if !ok {
			continue
		}
		o := amf.Object(props)
		if o.String("code") != "" || o.String("level") != "" {
			return o.String("level"), o.String("code"), o.String("description")
		}
	}
	return "", "", ""
}
