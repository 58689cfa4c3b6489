package ladder

import (
	"fmt"
	"strings"
)

// Variant is one playable version of a live stream: the source or one of
// its renditions.
type Variant struct {
	// Name is the rung ("480p"), or "source".
	Name string
	// Stream is the hub stream that plays it.
	Stream        string
	Width, Height int
	// Bandwidth is the peak bits per second (BANDWIDTH).
	Bandwidth int
	// Codecs is the RFC 6381 codecs list (CODECS).
	Codecs string
}

// SourceVariantName names the source in Variants.
const SourceVariantName = "source"

// Variants returns the live renditions of a source stream, tallest first,
// after the source itself; nil when it has none live.
func (l *Ladder) Variants(stream string) []Variant {
	l.mu.Lock()
	src := l.sources[stream]
	l.mu.Unlock()
	if src == nil {
		return nil
	}
	st := src.stream.Stats()
	if !st.Live || st.Video == nil {
		return nil
	}
	src.mu.Lock()
	src.peak = max(src.peak, st.BitrateIn)
	rds := append([]*rendition(nil), src.renditions...)
	srcCodecs, peak := codecs(src.video, src.audio), src.peak
	src.mu.Unlock()
	var out []Variant
	for _, rd := range rds {
		s := l.hub.Stream(rd.name)
		if s == nil {
			continue
		}
		rs := s.Stats()
		rd.mu.Lock()
		video := rd.video
		rd.mu.Unlock()
		if !rs.Live || rs.Video == nil || rs.Video.Height == 0 || video == "" {
			continue
		}
		a := ""
		if rs.Audio != nil {
			a = "mp4a.40.2"
		}
		out = append(out, Variant{Name: rd.rung.Name, Stream: rd.name, Width: rs.Video.Width, Height: rs.Video.Height,
			Bandwidth: rd.rung.Bandwidth(), Codecs: codecs(video, a)})
	}
	if len(out) == 0 {
		return nil
	}
	bw := int(peak) * 12 / 10
	if top := out[0].Bandwidth + 1; bw < top {
		bw = top
	}
	return append([]Variant{{Name: SourceVariantName, Stream: stream, Width: st.Video.Width, Height: st.Video.Height,
		Bandwidth: bw, Codecs: srcCodecs}}, out...)
}

// SourceQuery is the query that asks STREAM.m3u8 for the source's media
// playlist rather than the multivariant one.
const SourceQuery = "variant=source"

// Master returns the multivariant playlist of a source stream with live
// renditions, or nil. sig, if not empty, is a play signature query added
// to every variant URI (a private room's).
func (l *Ladder) Master(stream, sig string) []byte {
	vs := l.Variants(stream)
	if vs == nil {
		return nil
	}
	var b strings.Builder
	b.WriteString("#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-INDEPENDENT-SEGMENTS\n")
	for _, v := range vs {
		fmt.Fprintf(&b, "#EXT-X-STREAM-INF:BANDWIDTH=%d,RESOLUTION=%dx%d", v.Bandwidth, v.Width, v.Height)
		if v.Codecs != "" {
			fmt.Fprintf(&b, ",CODECS=\"%s\"", v.Codecs)
		}
		b.WriteString("\n")
		uri := v.Stream + ".m3u8"
		q := sig
		if v.Name == SourceVariantName {
			q = joinQuery(SourceQuery, sig)
		}
		if q != "" {
			uri += "?" + q
		}
		b.WriteString(uri + "\n")
	}
	return []byte(b.String())
}

func joinQuery(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "&" + b
}
