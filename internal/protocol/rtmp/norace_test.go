//go:build !race

package rtmp

// raceEnabled reports whether the race detector is on; it changes
// allocation counts.
const raceEnabled = false
