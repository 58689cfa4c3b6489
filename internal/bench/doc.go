// Package bench is roomcast's load generator: "roomcast bench play" opens
// many viewers of one stream over HTTP-FLV, WebSocket-FLV, HLS or RTMP and
// reports what they got and, optionally, what the server paid for it.
//
// The bench runs on the same machine as the server (loopback only, unless
// AllowRemote) and must cost little per viewer: viewers read with 32 KiB
// buffers, HTTP-FLV and WebSocket-FLV use hand-written clients on raw TCP
// connections, and only FLV tag headers (plus the first two bytes of video
// bodies) or MPEG-TS PAT/PMT/PES headers are parsed, without allocating per
// tag.
//
// # Timeline
//
// Viewers start connecting at evenly spread times over Config.Ramp. The
// measurement window starts once every viewer is connected or has failed
// (at most SetupTimeout after the ramp) and lasts Config.Duration; then
// every viewer is stopped.
//
// # Arrival time
//
// A frame arrives when the read that completes its FLV tag (or RTMP
// message, or HLS segment) returns it. The bench usually runs on one core
// next to the server, and the server writes to all viewers in a burst: the
// bench then reads thousands of sockets one after another, so the time a
// viewer's goroutine gets to read can be tens of milliseconds after the
// data reached its socket. That queueing is the bench's, not the server's.
//
// So by default (Config.Arrival "kernel", --arrival kernel), on Linux,
// HTTP-FLV and WebSocket-FLV viewers turn on software receive timestamps
// on their TCP socket (SO_TIMESTAMPING with SOF_TIMESTAMPING_RX_SOFTWARE and
// SOF_TIMESTAMPING_SOFTWARE) and read with recvmsg; a read's arrival time
// is the kernel's timestamp. For TCP that is the receive time of the last
// segment the read consumed, so it is an upper bound for every tag the read
// completed: conservative, never early. On loopback the kernel stamps a
// segment when the server's write hands it to the loopback device. Kernel
// timestamps are wall-clock (CLOCK_REALTIME) times; they are converted to
// the run's monotonic clock by the relation of the two taken once at the
// start, and capped at the time the read returned (a wall-clock step during
// a run spoils them; slewing does not matter). Reads without a timestamp
// (the kernel enables timestamping lazily, so the first segments after the
// first socket asks may have none) take the user-space time, and the
// report counts them.
//
// With kernel arrival the report adds two figures that show what it left
// out: the bench read delay, over reads, from the kernel timestamp to the
// read's return (a lower bound of the bench's queueing, since it is that
// of each read's last segment); and the live latency of the same frames on
// the user-space clock (kernel arrival + the read delay, with its own
// baseline), so that both clocks are compared on one run rather than on two
// runs that differ by more than the clocks do.
//
// Elsewhere arrival is user-space: the time the read returned. That is the
// case with --arrival user (to compare the two), off Linux, when the socket
// option fails, for RTMP (the rtmp package's client dials and reads its own
// connection, which the bench cannot reach) and for HLS (net/http). The
// report names the clock used and why.
//
// # Figures
//
// Delivered (Mbit/s, total over viewers): media stream bytes received during
// the window — FLV bytes for HTTP-FLV and WebSocket-FLV (without HTTP chunk
// or WebSocket framing), segment bytes for HLS, message payloads (tag
// bodies, without chunk headers) for RTMP — divided by its length.
//
// Time to first frame: from the start of a viewer's connection (before the
// TCP dial) to the arrival (see Arrival time) of its first coded video
// keyframe. For HLS: to the end of the download of its first segment.
//
// Latency: for every video frame a viewer receives, d = arrival time −
// stream timestamp (the FLV tag timestamp, or the PES DTS / 90 for HLS). The
// minimum of d over all viewers and the whole run is the baseline (the
// fastest delivery seen); a frame's latency is d − baseline. Report.Latency
// covers the live frames; Report.LatencyAll covers every frame, including
// the join bursts: frames a server sends from its cache on connect, defined
// as those whose timestamp + baseline is more than 2 ms (the timestamp
// resolution) before the viewer started connecting (for HLS: the frames of the first segment a viewer downloads,
// the newest when it joined). Frames before a viewer's first keyframe are not counted.
// Percentiles are nearest-rank. A stream whose timestamps jump (publisher
// restart) makes latency meaningless.
//
// Behind: a connected viewer is behind at the end of the window when it
// disconnected early, never received a frame, or its end lag — window end −
// (timestamp of its newest frame + baseline) — exceeds the threshold: 1 s by
// default, for HLS 1 s + 1.5 target durations. Viewers that never connected
// count as Failed, not as behind.
//
// Server cost (Config.PID, Linux): CPU seconds are utime+stime from
// /proc/PID/stat over the window, per viewer-second (the sum over viewers
// of their connected time within the window). RSS is VmRSS from
// /proc/PID/status, sampled every 100 ms; RSS per viewer is (peak − value
// before the first connect) / connected viewers.
package bench
