package sqlite

import (
	"path/filepath"
	"testing"
	"time"

	"roomcast/internal/store/storetest"
)

var _ storetest.Store = (*DB)(nil)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, now func() time.Time) storetest.Store {
		db := openPath(t, filepath.Join(t.TempDir(), FileName))
		db.now = now
		return db
	})
}
