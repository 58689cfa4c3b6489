package media

// Unwrapper turns 32-bit millisecond timestamps that wrap around after about
// 49.7 days into monotonic-in-wrap 64-bit ones. A timestamp that falls back by
// more than half the 32-bit range is taken as a wrap; smaller steps back are
// reported as they are (callers decide how to treat non-monotonic input).
// The zero value is ready to use; it is not safe for concurrent use.
type Unwrapper struct {
	last    uint32
	base    int64
	started bool
}

// Unwrap returns the 64-bit timestamp for ts.
func (u *Unwrapper) Unwrap(ts uint32) int64 {
	if u.started {
		switch {
		case ts < u.last && u.last-ts > 1<<31:
			u.base += 1 << 32
		case ts > u.last && ts-u.last > 1<<31:
			// A late packet from before the last wrap.
			return u.base - 1<<32 + int64(ts)
		}
	}
	u.started = true
	u.last = ts
	return u.base + int64(ts)
}
