package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Report is the result of a load test. Durations are in milliseconds.
// See the package documentation for the definitions.
type Report struct {
	URL      string `json:"url"`
	Protocol string `json:"protocol"`
	// Viewers is the number of viewers asked for.
	Viewers int `json:"viewers"`
	// Connected counts viewers whose play request was accepted.
	Connected int `json:"connected"`
	// Failed counts viewers that never got that far.
	Failed int `json:"failed"`
	// WindowSeconds is the length of the measurement window.
	WindowSeconds float64 `json:"window_s"`
	// Interrupted is set when the run was cancelled during the window.
	Interrupted bool `json:"interrupted,omitempty"`

	// Bytes is the media stream bytes all viewers received in the window;
	// Mbps is the same as a rate (total, not per viewer).
	Bytes int64   `json:"bytes"`
	Mbps  float64 `json:"mbit_s"`
	// AudioPackets counts the audio packets all viewers received over the
	// run (WHEP only: Opus RTP packets), and ViewersWithAudio the viewers
	// that got any.
	AudioPackets     int64 `json:"audio_packets,omitempty"`
	ViewersWithAudio int   `json:"viewers_with_audio,omitempty"`

	// TTFF is the time from connection start to the first video keyframe
	// (HLS: to the first segment downloaded).
	TTFF Dist `json:"ttff_ms"`
	// Latency is over live frames; LatencyAll over every frame, including
	// the join bursts (JoinBurstFrames of them) served from a cache.
	Latency         Dist `json:"latency_ms"`
	LatencyAll      Dist `json:"latency_all_ms"`
	JoinBurstFrames int  `json:"join_burst_frames"`
	// LatencyUserClock, with kernel arrival, is Latency of the same frames
	// had arrival been taken in user space (when the reads returned), with
	// its own baseline: the two compared within one run.
	LatencyUserClock *Dist `json:"latency_user_clock_ms,omitempty"`
	// SegmentsSkipped counts HLS segments viewers missed because they
	// left the playlist before being downloaded.
	SegmentsSkipped int64 `json:"segments_skipped,omitempty"`
	// SamplesDropped counts frames beyond the per-viewer sample limit.
	SamplesDropped int64 `json:"samples_dropped,omitempty"`
	// Arrival is the clock arrival times came from: "kernel" (socket
	// receive timestamps), "user-space" (when the bench's read returned) or
	// "mixed"; ArrivalNote says why, or what part was not kernel time.
	Arrival     string `json:"arrival"`
	ArrivalNote string `json:"arrival_note,omitempty"`
	// Reads counts the viewers' socket reads that returned data (HTTP-FLV
	// and WebSocket-FLV) and StampedReads those with a kernel timestamp.
	Reads        int64 `json:"reads,omitempty"`
	StampedReads int64 `json:"stamped_reads,omitempty"`
	// ReadDelay is, over the reads with a kernel timestamp, the time from
	// that timestamp to the read's return: the bench's own queueing that
	// kernel arrival leaves out (for the last segment of each read, so a
	// lower bound). Percentiles are to 0.1 ms.
	ReadDelay Dist `json:"read_delay_ms"`

	// Behind counts connected viewers not keeping up at the end:
	// BehindDisconnected (stopped early), BehindNoFrame (no frame at all)
	// and BehindLagging (end lag above BehindThresholdMS).
	Behind             int     `json:"behind"`
	BehindDisconnected int     `json:"behind_disconnected"`
	BehindNoFrame      int     `json:"behind_no_frame"`
	BehindLagging      int     `json:"behind_lagging"`
	BehindThresholdMS  float64 `json:"behind_threshold_ms"`

	// Process is the measured server process, when a PID was given.
	Process *ProcessReport `json:"process,omitempty"`

	// Errors are the most frequent reasons viewers failed or stopped.
	Errors []ErrorCount `json:"errors,omitempty"`
	// NoFileLimit is the open file limit of the bench process.
	NoFileLimit uint64   `json:"nofile_limit,omitempty"`
	Warnings    []string `json:"warnings,omitempty"`
}

// Dist summarizes a distribution in milliseconds (nearest-rank
// percentiles).
type Dist struct {
	Count int     `json:"count"`
	P50   float64 `json:"p50"`
	P99   float64 `json:"p99"`
	Max   float64 `json:"max"`
}

// ProcessReport is the cost of the measured server process.
type ProcessReport struct {
	PID int `json:"pid"`
	// CPUSeconds is utime+stime spent during the window.
	CPUSeconds float64 `json:"cpu_s"`
	// ViewerSeconds sums the time each viewer was connected in the window.
	ViewerSeconds float64 `json:"viewer_s"`
	// CPUMsPerViewerSecond is CPUSeconds·1000 / ViewerSeconds.
	CPUMsPerViewerSecond float64 `json:"cpu_ms_per_viewer_s"`
	// RSSBeforeKB is VmRSS before the first viewer connected, RSSPeakKB the
	// highest VmRSS sampled (every 100 ms) up to the end of the window, and
	// RSSHWMKB the kernel's VmHWM at the end (lifetime peak).
	RSSBeforeKB int64 `json:"rss_before_kb"`
	RSSPeakKB   int64 `json:"rss_peak_kb"`
	RSSHWMKB    int64 `json:"rss_hwm_kb"`
	// RSSKBPerViewer is (RSSPeakKB − RSSBeforeKB) / Connected.
	RSSKBPerViewer float64 `json:"rss_kb_per_viewer"`
	// Error is set when the process could not be read throughout.
	Error string `json:"error,omitempty"`
}

// ErrorCount is an error message and how many viewers hit it.
type ErrorCount struct {
	Message string `json:"message"`
	Count   int    `json:"count"`
}

// Write writes the report to w as an aligned table, or as indented JSON.
func (r *Report) Write(w io.Writer, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	var b strings.Builder
	line := func(label, format string, args ...any) {
		fmt.Fprintf(&b, "%-20s %s\n", label, fmt.Sprintf(format, args...))
	}
	fmt.Fprintf(&b, "roomcast bench play %s (%s)\n", r.URL, r.Protocol)
	line("viewers", "%d asked, %d connected, %d failed", r.Viewers, r.Connected, r.Failed)
	win := fmt.Sprintf("%.1f s", r.WindowSeconds)
	if r.Interrupted {
		win += " (interrupted)"
	}
	line("window", "%s", win)
	perViewer := 0.0
	if r.Connected > 0 {
		perViewer = r.Mbps / float64(r.Connected)
	}
	line("delivered", "%.1f Mbit/s total (%.2f per viewer, %d bytes)", r.Mbps, perViewer, r.Bytes)
	if r.Protocol == ProtoWHEP {
		line("audio", "%d packets; %d of %d viewers got audio", r.AudioPackets, r.ViewersWithAudio, r.Connected)
	}
	line("arrival", "%s", r.arrivalLine())
	if r.ArrivalNote != "" {
		line("", "%s", r.ArrivalNote)
	}
	if r.ReadDelay.Count > 0 {
		line("bench read delay", "%s  [kernel timestamp → read returned]", r.ReadDelay)
	}
	line("time to 1st frame", "%s", r.TTFF)
	line("latency (live)", "%s", r.Latency)
	if r.LatencyUserClock != nil {
		line("  same, user clock", "%s  [arrival = read returned]", *r.LatencyUserClock)
	}
	line("latency (all)", "%s  [%d join-burst frames]", r.LatencyAll, r.JoinBurstFrames)
	line("behind", "%d  (disconnected %d, no frame %d, lag > %.0f ms %d)",
		r.Behind, r.BehindDisconnected, r.BehindNoFrame, r.BehindThresholdMS, r.BehindLagging)
	if p := r.Process; p != nil {
		line(fmt.Sprintf("server pid %d", p.PID), "CPU %.2f s over %.0f viewer-s = %.3f ms per viewer-second",
			p.CPUSeconds, p.ViewerSeconds, p.CPUMsPerViewerSecond)
		line("", "RSS %d KB before, %d KB peak = %.1f KB per viewer (VmHWM %d KB)",
			p.RSSBeforeKB, p.RSSPeakKB, p.RSSKBPerViewer, p.RSSHWMKB)
		if p.Error != "" {
			line("", "error: %s", p.Error)
		}
	}
	for _, e := range r.Errors {
		line("error", "%d × %s", e.Count, e.Message)
	}
	for _, s := range r.Warnings {
		line("warning", "%s", s)
	}
	if r.SegmentsSkipped > 0 {
		line("note", "%d HLS segments skipped (left the playlist before download)", r.SegmentsSkipped)
	}
	if r.SamplesDropped > 0 {
		line("note", "%d frames beyond the per-viewer sample limit not in latency", r.SamplesDropped)
	}
	b.WriteString("latency = (arrival − stream timestamp) − baseline, baseline = the minimum of\n" +
		"  (arrival − stream timestamp) over all viewers and the whole run; 'live' leaves out\n" +
		"  frames produced before the viewer connected (cache bursts). Percentiles: nearest rank.\n" +
		"arrival: kernel = when the kernel received the last TCP segment a read took (no bench\n" +
		"  queueing; an upper bound for the frames the read completed); user-space = when the read returned.\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// String formats a distribution as "p50 … p99 … max … (n=…)".
func (d Dist) String() string {
	if d.Count == 0 {
		return "-  (n=0)"
	}
	return fmt.Sprintf("p50 %.1f ms  p99 %.1f ms  max %.1f ms  (n=%d)", d.P50, d.P99, d.Max, d.Count)
}
