package webrtc

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/pion/logging"
)

// slogFactory makes pion's loggers write to slog: pion's warnings and
// errors at slog's debug level, since they mostly describe one peer's
// network trouble; pion's debug and trace output is dropped.
type slogFactory struct{ log *slog.Logger }

// NewLogger implements logging.LoggerFactory.
func (f slogFactory) NewLogger(scope string) logging.LeveledLogger {
	return slogLogger{log: f.log.With("pion", scope)}
}

type slogLogger struct{ log *slog.Logger }

func (l slogLogger) emit(level slog.Level, msg string) {
	l.log.Log(context.Background(), level, msg)
}

func (l slogLogger) Trace(string)              {}
func (l slogLogger) Tracef(string, ...any)     {}
func (l slogLogger) Debug(string)              {}
func (l slogLogger) Debugf(string, ...any)     {}
func (l slogLogger) Info(msg string)           { l.emit(slog.LevelDebug, msg) }
func (l slogLogger) Infof(f string, a ...any)  { l.emit(slog.LevelDebug, fmt.Sprintf(f, a...)) }
func (l slogLogger) Warn(msg string)           { l.emit(slog.LevelDebug, msg) }
func (l slogLogger) Warnf(f string, a ...any)  { l.emit(slog.LevelDebug, fmt.Sprintf(f, a...)) }
func (l slogLogger) Error(msg string)          { l.emit(slog.LevelWarn, msg) }
func (l slogLogger) Errorf(f string, a ...any) { l.emit(slog.LevelWarn, fmt.Sprintf(f, a...)) }
