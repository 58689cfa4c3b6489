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
// # Figures
//
// Delivered (Mbit/s, total over viewers): media stream bytes received during
// the window — FLV bytes for HTTP-FLV and WebSocket-FLV (without HTTP chunk
// or WebSocket framing), segment bytes for HLS, message payloads (tag
// bodies, without chunk headers) for RTMP — divided by its length.
//
// Time to first frame: from the start of a viewer's connection (before the
// TCP dial) to the arrival of its first coded video keyframe. For HLS: to
// the end of the download of its first segment.
//
// Latency: for every video frame a viewer receives, d = arrival wall time −
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
