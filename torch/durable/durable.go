// Package durable is the one way torchlab writes state that must survive a
// crash or a power cut: checkpoints, the best model, metrics, summaries.
//
// WriteFile replaces a file atomically and durably: it writes a temporary
// file in the same folder, syncs it, renames it over the target and syncs
// the folder, so that after a crash at any moment the path holds either the
// old content or the new, never a mixture, an empty file or nothing. On
// failure the temporary file is removed.
//
// File is a file written in place (a row appended to metrics.csv, a file
// in a folder that is itself renamed into place later); Sync makes what was
// written durable.
//
// Every byte written through this package counts against an optional quota
// (SetQuota), which tests use to fill the disk at a chosen byte.
package durable

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"syscall"
)

// quota is the bytes the writers of this package may still write, when on.
var quota struct {
	sync.Mutex
	on   bool
	left int64
}

// SetQuota makes the disk look full after n more bytes written through this
// package: the write that crosses the limit writes what fits and fails with
// ENOSPC, as write(2) does on a full disk. It returns the function that lifts
// the quota. It is a test seam: a process sets it at most once at a time.
func SetQuota(n int64) (lift func()) {
	quota.Lock()
	quota.on, quota.left = true, n
	quota.Unlock()
	return func() {
		quota.Lock()
		quota.on = false
		quota.Unlock()
	}
}

// take reserves up to n bytes of the quota and returns how many may be
// written.
func take(n int) int {
	quota.Lock()
	defer quota.Unlock()
	if !quota.on {
		return n
	}
	if int64(n) > quota.left {
		n = int(quota.left)
	}
	quota.left -= int64(n)
	return n
}

// File is an open file whose writes count against the quota.
type File struct {
	f *os.File
}

// Create creates or truncates path for writing.
func Create(path string, perm fs.FileMode) (*File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return nil, err
	}
	return &File{f: f}, nil
}

// Wrap makes writes to f count against the quota. The File shares f.
func Wrap(f *os.File) *File { return &File{f: f} }

// Name is the file's path.
func (f *File) Name() string { return f.f.Name() }

// Write writes p at the file's offset; on a full disk (real or by quota) it
// returns an error wrapping syscall.ENOSPC that names the file.
func (f *File) Write(p []byte) (int, error) {
	allowed := take(len(p))
	n, err := f.f.Write(p[:allowed])
	if err == nil && allowed < len(p) {
		err = &fs.PathError{Op: "write", Path: f.f.Name(), Err: syscall.ENOSPC}
	}
	return n, err
}

// Sync commits the file's content to stable storage.
func (f *File) Sync() error { return f.f.Sync() }

// Close closes the file.
func (f *File) Close() error { return f.f.Close() }

// WriteFile atomically replaces path with data (see the package comment).
func WriteFile(path string, data []byte, perm fs.FileMode) error {
	return Write(path, perm, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// Write is WriteFile for content produced by fill, which writes to the
// temporary file. An error from fill is returned as is, after the temporary
// file is removed.
func Write(path string, perm fs.FileMode, fill func(io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			err = errors.Join(err, removeIfThere(tmp))
		}
	}()
	err = fill(Wrap(f))
	if err == nil {
		// Without this sync a power cut can leave the rename on disk but
		// not the data: an empty or short file under the final name.
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("write %s: %w", tmp, cerr)
	}
	if err != nil {
		return err
	}
	// CreateTemp makes the file private; these files are read by other
	// tools and users.
	if err := os.Chmod(tmp, perm); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return SyncDir(dir)
}

// SyncDir commits a folder's entries (files created, renamed or removed in
// it) to stable storage.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// removeIfThere removes path; a path already gone is not an error.
func removeIfThere(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}
