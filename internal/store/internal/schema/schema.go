// Package schema holds what the store implementations share about their
// migrations: the NNNN_name.sql files, and the check that a database was not
// migrated by a newer build. Each implementation keeps its own SQL (the same
// versions and names, in its dialect) and applies it its own way.
package schema

import (
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"strconv"

	"roomcast/internal/store"
)

// Migration is one schema change, from a file named NNNN_name.sql.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

var fileName = regexp.MustCompile(`^([0-9]{4})_([a-z0-9_]+)\.sql$`)

// Load reads the *.sql files at the root of fsys, sorted by version. Every
// file must be named NNNN_name.sql with a unique version above 0.
func Load(fsys fs.FS) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var ms []Migration
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		m := fileName.FindStringSubmatch(e.Name())
		if m == nil {
			return nil, fmt.Errorf("migration file %q: name is not NNNN_name.sql", e.Name())
		}
		v, _ := strconv.Atoi(m[1])
		if v == 0 {
			return nil, fmt.Errorf("migration file %q: version 0", e.Name())
		}
		b, err := fs.ReadFile(fsys, e.Name())
		if err != nil {
			return nil, fmt.Errorf("read migration: %w", err)
		}
		ms = append(ms, Migration{Version: v, Name: m[2], SQL: string(b)})
	}
	slices.SortFunc(ms, func(a, b Migration) int { return a.Version - b.Version })
	for i := 1; i < len(ms); i++ {
		if ms[i].Version == ms[i-1].Version {
			return nil, fmt.Errorf("migrations %q and %q share version %d", ms[i-1].Name, ms[i].Name, ms[i].Version)
		}
	}
	return ms, nil
}

// Latest returns the highest version of ms, 0 if there is none.
func Latest(ms []Migration) int {
	if len(ms) == 0 {
		return 0
	}
	return ms[len(ms)-1].Version
}

// Check refuses a database that records a version ms does not have: with a
// *store.SchemaTooNewError (errors.Is store.ErrSchemaTooNew) when that
// version is above the newest of ms, else with an error naming it.
func Check(applied map[int]bool, ms []Migration) error {
	known := make(map[int]bool, len(ms))
	for _, m := range ms {
		known[m.Version] = true
	}
	latest := Latest(ms)
	newest, unknown := 0, 0
	for v := range applied {
		if known[v] {
			continue
		}
		newest = max(newest, v)
		if v < latest {
			unknown = v
		}
	}
	if newest > latest {
		return &store.SchemaTooNewError{Version: newest, Known: latest}
	}
	if unknown != 0 {
		return fmt.Errorf("migrate: the database records migration %d, which this build does not have", unknown)
	}
	return nil
}
