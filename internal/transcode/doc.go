// Package transcode runs and supervises external media processes (ffmpeg)
// for the features that need a decoder or an encoder roomcast does not have
// in Go: live covers and replay posters, the quality ladder, the co-host mix
// and audio bridging for WebRTC. None of those features manages processes
// itself; they describe a job and hand it to a Manager.
//
// # Safety of arguments
//
// A job's arguments are built by roomcast code from constants and numbers,
// never from a string a user sent. Media goes in and out through the
// process's standard input and output (pipe:0, pipe:1), fed from and back
// into the hub, never through a path or URL a user could name. CheckArgs
// enforces this on every start: an input (-i) or the output must be a pipe,
// and no argument may be a URL, an absolute or relative path, or an option
// or filter that opens files. Stream names never appear in arguments; the
// Spec's Name is for logs only.
//
// # Jobs
//
// Start runs a long-lived, supervised job (a rendition, a mix): the process
// is started with pipes, Spec.Attach is called with them for every run, and
// when the process dies (non-zero exit, signal, or Attach returning an
// error) it is started again after an exponential back-off (Config.MinBackoff
// doubling up to Config.MaxBackoff, reset after a run that lasted
// Config.StableAfter). A run that ends cleanly (exit status 0 and Attach
// returned nil, typically because Attach closed stdin at the end of the
// stream) ends the job. The job also stops when its context is cancelled,
// when Spec.Done is closed (pass the hub stream's Done channel) or on
// Job.Stop: stdin is closed first so ffmpeg can finish, and the process is
// killed after Config.StopGrace.
//
// A job with more than one input (a mix of several members' streams) asks
// for Spec.ExtraInputs pipes: Attach gets them as Pipes.Inputs, and Args
// name them pipe:3, pipe:4, ….
//
// Run runs a short one-shot process (a cover grab): it writes the given
// bytes to stdin, closes it and returns stdout. It is not restarted; the
// caller decides when to try again.
//
// # Limits and metrics
//
// Jobs and one-shot runs share one bound, Config.MaxJobs (the
// -max-transcodes flag): a start beyond it fails with ErrTooMany and is
// counted (Config.Refused("max-transcodes") and Stats). Stats reports, per
// job kind, the processes running, restarts, refusals and CPU seconds
// (finished processes plus, on Linux, the running ones read from /proc).
//
// # Without ffmpeg
//
// New looks the binary up once. When it is missing, Available reports false,
// Start and Run fail with ErrUnavailable, and the server logs once which
// features are off; everything else works.
package transcode
