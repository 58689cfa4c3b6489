// Package bus is the pub/sub that carries live-room events between the
// components (and, with a network implementation, the nodes) of roomcast.
// Subjects are plain strings such as "chat.room_abc"; payloads are opaque
// bytes that the publisher must not change after Publish.
package bus

import (
	"context"
	"errors"
	"sync"
)

// Bus publishes payloads to subjects and delivers them to the subscribers of
// the subject. Implementations are safe for concurrent use.
type Bus interface {
	// Publish delivers data to every current subscriber of subject. It
	// may return before delivery; data must not be changed afterwards.
	Publish(ctx context.Context, subject string, data []byte) error
	// Subscribe calls fn with the payload of every message published to
	// subject until unsubscribe is called. Calls to one subscription's fn
	// never overlap and arrive in publish order per publisher; fn must not
	// block for long nor call Subscribe or unsubscribe.
	Subscribe(subject string, fn func(data []byte)) (unsubscribe func(), err error)
}

// ErrClosed is returned by a closed Bus.
var ErrClosed = errors.New("bus: closed")

// Memory is the in-process Bus: Publish calls each subscriber's fn in the
// publisher's goroutine before it returns, so delivery is synchronous and
// ordered. Its zero value is ready to use.
type Memory struct {
	mu     sync.RWMutex
	subs   map[string]map[*subscription]struct{}
	closed bool
}

// subscription is one Subscribe call; mu serialises its fn calls.
type subscription struct {
	mu sync.Mutex
	fn func([]byte)
}

var _ Bus = (*Memory)(nil)

// NewMemory returns an empty in-process bus.
func NewMemory() *Memory { return &Memory{} }

// Publish calls the subscribers of subject with data.
func (m *Memory) Publish(ctx context.Context, subject string, data []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.RLock()
	if m.closed {
		m.mu.RUnlock()
		return ErrClosed
	}
	subs := make([]*subscription, 0, len(m.subs[subject]))
	for s := range m.subs[subject] {
		subs = append(subs, s)
	}
	m.mu.RUnlock()
	for _, s := range subs {
		s.mu.Lock()
		if s.fn != nil {
			s.fn(data)
		}
		s.mu.Unlock()
	}
	return nil
}

// Subscribe registers fn for subject.
func (m *Memory) Subscribe(subject string, fn func([]byte)) (func(), error) {
	s := &subscription{fn: fn}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrClosed
	}
	if m.subs == nil {
		m.subs = make(map[string]map[*subscription]struct{})
	}
	if m.subs[subject] == nil {
		m.subs[subject] = make(map[*subscription]struct{})
	}
	m.subs[subject][s] = struct{}{}
	var once sync.Once
	return func() {
		once.Do(func() {
			m.mu.Lock()
			delete(m.subs[subject], s)
			if len(m.subs[subject]) == 0 {
				delete(m.subs, subject)
			}
			m.mu.Unlock()
			s.mu.Lock()
			s.fn = nil // a Publish that already picked s up skips it
			s.mu.Unlock()
		})
	}, nil
}

// Close drops every subscription; later calls fail with ErrClosed.
func (m *Memory) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	m.subs = nil
	return nil
}
