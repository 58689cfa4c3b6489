package postgres

import (
	"log/slog"
	"os"
	"testing"
	"time"

	"roomcast/internal/pgtest"
	"roomcast/internal/store/storetest"
)

// cluster is the Postgres server shared by the package's tests; each test
// has a database of its own. Tests that stop the server start their own.
var cluster *pgtest.Cluster

func TestMain(m *testing.M) { os.Exit(pgtest.RunMain(m, &cluster)) }

var _ storetest.Store = (*DB)(nil)

// openURL opens the store at url and closes it when the test ends.
func openURL(t *testing.T, url string) *DB {
	t.Helper()
	db, err := Open(t.Context(), url, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, now func() time.Time) storetest.Store {
		db := openURL(t, cluster.NewDatabase(t))
		db.now = now
		return db
	})
}
