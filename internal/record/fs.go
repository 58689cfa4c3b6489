package record

import (
	"fmt"
	"os"
	"path/filepath"
)

// fileSystem is what the recorder does to the disk; tests inject failures.
type fileSystem interface {
	// MkdirAll creates a directory and its parents.
	MkdirAll(dir string) error
	// WriteFile creates (or truncates) name, writes data and syncs it.
	WriteFile(name string, data []byte) error
	// Rename replaces newName by oldName and syncs the directory.
	Rename(oldName, newName string) error
}

// osFS is the real filesystem.
type osFS struct{}

func (osFS) MkdirAll(dir string) error { return os.MkdirAll(dir, 0o755) }

func (osFS) WriteFile(name string, data []byte) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func (osFS) Rename(oldName, newName string) error {
	if err := os.Rename(oldName, newName); err != nil {
		return err
	}
	d, err := os.Open(filepath.Dir(newName))
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// writeAtomic replaces name by data so that a crash leaves either the old or
// the new content: write a temporary file, sync it, rename it over name and
// sync the directory.
func writeAtomic(fsys fileSystem, name string, data []byte) error {
	tmp := name + ".tmp"
	if err := fsys.WriteFile(tmp, data); err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(tmp), err)
	}
	if err := fsys.Rename(tmp, name); err != nil {
		return fmt.Errorf("rename %s: %w", filepath.Base(tmp), err)
	}
	return nil
}
