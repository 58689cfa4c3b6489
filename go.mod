module roomcast

go 1.26.8

require github.com/bluenviron/mediacommon/v2 v2.9.3

require (
	github.com/asticode/go-astikit v0.30.0 // indirect
	github.com/asticode/go-astits v1.16.0 // indirect
	github.com/coder/websocket v1.8.15 // indirect
)
