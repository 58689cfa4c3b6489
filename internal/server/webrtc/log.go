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

// Trace implements logging.LeveledLogger: dropped.
func (l slogLogger) Trace(string) {}

// Tracef implements logging.LeveledLogger: dropped.
func (l slogLogger) Tracef(string, ...any) {}

// Debug implements logging.LeveledLogger: dropped.
func (l slogLogger) Debug(string) {}

// Debugf implements logging.LeveledLogger: dropped.
func (l slogLogger) Debugf(string, ...any) {}

// Info implements logging.LeveledLogger, at slog's debug level.
func (l slogLogger) Info(msg string) { l.emit(slog.LevelDebug, msg) }

// Infof implements logging.LeveledLogger, at slog's debug level.
func (l slogLogger) Infof(f string, a ...any) { l.emit(slog.LevelDebug, fmt.Sprintf(f, a...)) }

// Warn implements logging.LeveledLogger, at slog's debug level.
func (l slogLogger) Warn(msg string) { l.emit(slog.LevelDebug, msg) }

// Warnf implements logging.LeveledLogger, at slog's debug level.
func (l slogLogger) Warnf(f string, a ...any) { l.emit(slog.LevelDebug, fmt.Sprintf(f, a...)) }

// Error implements logging.LeveledLogger, at slog's warn level.
func (l slogLogger) Error(msg string) { l.emit(slog.LevelWarn, msg) }

// Errorf implements logging.LeveledLogger, at slog's warn level.
func (l slogLogger) Errorf(f string, a ...any) { l.emit(slog.LevelWarn, fmt.Sprintf(f, a...)) }
