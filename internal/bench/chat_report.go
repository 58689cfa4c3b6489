package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
)

// IdleKBPerConnTarget is the target server memory per idle chat connection.
const IdleKBPerConnTarget = 24

// ChatReport is the result of a chat load test.
type ChatReport struct {
	URL string `json:"url"`
	// SendURL is where the senders connected, when not URL.
	SendURL string `json:"send_url,omitempty"`
	Room    string `json:"room"`
	Clients int    `json:"clients"`
	// Connected clients got a welcome frame; Failed did not.
	Connected int `json:"connected"`
	Failed    int `json:"failed"`
	// JoinErrors are why clients failed to join, most frequent first.
	JoinErrors   []ErrorCount `json:"join_errors,omitempty"`
	JoinSeconds  float64      `json:"join_s"`
	JoinTimedOut bool         `json:"join_timed_out,omitempty"`
	// Guests joined without a token; SourceAddrs is the number of
	// 127.0.0.x source addresses they were spread over (0: one).
	Guests      int `json:"guests"`
	SourceAddrs int `json:"source_addrs,omitempty"`
	// Senders is the number of sender clients, one per distinct user:
	// SendersNeeded = ceil(Rate · window / messages) of the server's limit.
	Senders       int     `json:"senders"`
	SendersNeeded int     `json:"senders_needed"`
	Rate          float64 `json:"rate"`
	Duration      float64 `json:"duration_s"`
	// WindowSeconds is the sending time plus the drain.
	WindowSeconds float64 `json:"window_s"`
	Sent          int64   `json:"sent"`
	SendErrors    int64   `json:"send_errors"`
	// Deliveries counts messages received by all clients together;
	// Expected is Sent × the clients connected at the end.
	Deliveries       int64   `json:"deliveries"`
	Expected         int64   `json:"expected"`
	DeliveriesPerSec float64 `json:"deliveries_per_s"`
	// Latency is receive time − send time of every delivery.
	Latency     Dist   `json:"latency_ms"`
	Arrival     string `json:"arrival"`
	ArrivalNote string `json:"arrival_note,omitempty"`
	// Behind counts connected clients whose last delivery took longer
	// than the threshold; Incomplete those that got fewer than Sent.
	Behind     int `json:"behind"`
	Incomplete int `json:"incomplete"`
	// Skips counts the skipped notices the server sent clients that fell
	// behind, Skipped the messages they said were skipped; Silent counts
	// the connected clients for which received + skipped < Sent: messages
	// lost without a word (the server must never do that).
	Skips   int64 `json:"skips"`
	Skipped int64 `json:"skipped"`
	Silent  int   `json:"silent"`
	// Disconnected counts clients that joined and then lost the
	// connection; Disconnects tells why (close code and reason, or error).
	Disconnected int          `json:"disconnected"`
	Disconnects  []ErrorCount `json:"disconnects,omitempty"`
	// ServerErrors counts the error frames received, by code.
	ServerErrors []ErrorCount       `json:"server_errors,omitempty"`
	Process      *ChatProcessReport `json:"process,omitempty"`
}

// ChatProcessReport is the cost of the measured server process.
type ChatProcessReport struct {
	PID int `json:"pid"`
	// CPUSeconds is utime+stime during the window; CPUMsPerDelivery is
	// CPUSeconds·1000 / Deliveries.
	CPUSeconds       float64 `json:"cpu_s"`
	CPUMsPerDelivery float64 `json:"cpu_ms_per_delivery"`
	// RSSBeforeKB is VmRSS before the first client connected, RSSIdleKB
	// after all joined (before sending), RSSPeakKB the highest sampled.
	RSSBeforeKB int64 `json:"rss_before_kb"`
	RSSIdleKB   int64 `json:"rss_idle_kb"`
	RSSPeakKB   int64 `json:"rss_peak_kb"`
	// IdleKBPerConn is (RSSIdleKB − RSSBeforeKB) / Connected (target
	// IdleKBPerConnTarget); PeakKBPerConn uses RSSPeakKB.
	IdleKBPerConn float64 `json:"idle_kb_per_conn"`
	PeakKBPerConn float64 `json:"peak_kb_per_conn"`
	Error         string  `json:"error,omitempty"`
}

// buildChatReport fills rep from the finished clients.
func buildChatReport(rep *ChatReport, r *chatRun, clients []*chatClient, proc *procSampler) {
	joinErrs := make(map[string]int)
	discs := make(map[string]int)
	thr := r.cfg.BehindThreshold.Microseconds()
	for _, c := range clients {
		why := ""
		switch {
		case c.closeCode != 0:
			why = "close " + strconv.Itoa(c.closeCode) + " " + c.closeReason
		case c.err != nil:
			why = c.err.Error()
		}
		if !c.joined.Load() {
			if why == "" {
				why = "no welcome before the join timeout"
			}
			joinErrs[why]++
			continue
		}
		if why != "" {
			rep.Disconnected++
			discs[why]++
			continue
		}
		rep.Expected += rep.Sent
		if c.received < rep.Sent {
			rep.Incomplete++
		}
		if c.received+c.skipped < rep.Sent {
			rep.Silent++
		}
		if c.received > 0 && c.lastLatUS > thr {
			rep.Behind++
		}
	}
	rep.Skips, rep.Skipped = r.skips.Load(), r.skippedMsgs.Load()
	rep.Failed = rep.Clients - rep.Connected
	rep.JoinErrors = topErrors(joinErrs, 10)
	rep.Disconnects = topErrors(discs, 10)
	rep.ServerErrors = topErrors(r.serverErrors, 10)
	if rep.WindowSeconds > 0 {
		rep.DeliveriesPerSec = float64(rep.Deliveries) / rep.WindowSeconds
	}
	rep.Latency = r.latency.dist()
	rep.Arrival = arrivalUser
	switch {
	case r.cfg.Arrival == ArrivalUser:
		rep.ArrivalNote = "--arrival user"
	case r.stampedReads.Load() == 0:
		rep.ArrivalNote = "no read carried a kernel timestamp"
		if r.arrivalErr != nil {
			rep.ArrivalNote = r.arrivalErr.Error()
		}
	default:
		rep.Arrival = arrivalKernel
		if miss := r.reads.Load() - r.stampedReads.Load(); miss > 0 {
			rep.ArrivalNote = fmt.Sprintf("%d of %d reads had no kernel timestamp and took user-space time", miss, r.reads.Load())
		}
	}
	if proc != nil && rep.Process != nil {
		p := rep.Process
		var err error
		p.RSSBeforeKB, p.RSSPeakKB, _, err = proc.result()
		if err != nil {
			p.Error = err.Error()
		}
		if rep.Deliveries > 0 {
			p.CPUMsPerDelivery = p.CPUSeconds * 1000 / float64(rep.Deliveries)
		}
		if rep.Connected > 0 {
			if p.RSSIdleKB > 0 {
				p.IdleKBPerConn = float64(p.RSSIdleKB-p.RSSBeforeKB) / float64(rep.Connected)
			}
			p.PeakKBPerConn = float64(p.RSSPeakKB-p.RSSBeforeKB) / float64(rep.Connected)
		}
	}
}

// Write writes the report to w as an aligned table, or as indented JSON.
func (r *ChatReport) Write(w io.Writer, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	p := func(k, f string, a ...any) { fmt.Fprintf(tw, k+"\t"+f+"\n", a...) }
	p("chat", "%s", r.URL)
	if r.SendURL != "" {
		p("senders on", "%s", r.SendURL)
	}
	p("clients", "%d connected, %d failed of %d (%d guests%s); joined in %.1f s%s", r.Connected, r.Failed, r.Clients, r.Guests,
		ifStr(r.SourceAddrs > 0, fmt.Sprintf(" over %d source addresses", r.SourceAddrs)), r.JoinSeconds, ifStr(r.JoinTimedOut, " (join timed out)"))
	for _, e := range r.JoinErrors {
		p("  join error", "%d× %s", e.Count, e.Message)
	}
	p("senders", "%d (needed for %.4g msg/s: %d)", r.Senders, r.Rate, r.SendersNeeded)
	p("sent", "%d messages in %.1f s (%d send errors)", r.Sent, r.Duration, r.SendErrors)
	p("delivered", "%d of %d expected, %.0f/s over %.1f s (send + drain)", r.Deliveries, r.Expected, r.DeliveriesPerSec, r.WindowSeconds)
	p("latency", "%s", r.Latency)
	p("arrival", "%s%s", r.Arrival, ifStr(r.ArrivalNote != "", " ("+r.ArrivalNote+")"))
	p("behind", "%d clients (last delivery over the threshold); %d clients missed messages", r.Behind, r.Incomplete)
	p("skipped", "%d notices for %d messages; %d clients missed messages without a notice", r.Skips, r.Skipped, r.Silent)
	p("disconnected", "%d", r.Disconnected)
	for _, e := range r.Disconnects {
		p("  reason", "%d× %s", e.Count, e.Message)
	}
	for _, e := range r.ServerErrors {
		p("server error", "%d× %s", e.Count, e.Message)
	}
	if pr := r.Process; pr != nil {
		p("server cpu", "%.2f s, %.4f ms per delivered message", pr.CPUSeconds, pr.CPUMsPerDelivery)
		p("server rss", "before %d KB, idle %d KB, peak %d KB", pr.RSSBeforeKB, pr.RSSIdleKB, pr.RSSPeakKB)
		p("rss per conn", "idle %.1f KB (target ≤ %d), peak %.1f KB", pr.IdleKBPerConn, IdleKBPerConnTarget, pr.PeakKBPerConn)
		if pr.Error != "" {
			p("process error", "%s", pr.Error)
		}
	}
	return tw.Flush()
}

func ifStr(ok bool, s string) string {
	if ok {
		return s
	}
	return ""
}
