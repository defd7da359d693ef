package pg

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// Dump writes a consistent copy of the database at url to file, with
// PostgreSQL's pg_dump from binDir in its custom format (pg_restore reads
// it). pg_dump reads one snapshot, so examd may go on serving meanwhile.
// The file is written whole or not at all: pg_dump writes a temporary file
// next to it, renamed when complete.
func Dump(ctx context.Context, binDir, url, file string) error {
	tmp := file + ".partial"
	cmd := exec.CommandContext(ctx, clientBinary(binDir, "pg_dump"),
		"--format=custom", "--no-owner", "--no-privileges", "--file="+tmp, "--dbname="+url)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("pg_dump: %w: %s", err, lastLines(stderr.String()))
	}
	if err := os.Rename(tmp, file); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("backup file: %w", err)
	}
	return nil
}

// ErrNotEmpty refuses a restore into a database that already holds tables:
// a restore never merges into, nor overwrites, an office's data.
var ErrNotEmpty = errors.New("the database is not empty: restore only into an empty database or data folder")

// Restore loads a file that Dump wrote into the empty database at url, in
// one transaction (all or nothing), with pg_restore from binDir.
func Restore(ctx context.Context, binDir, url, file string) error {
	if _, err := os.Stat(file); err != nil {
		return fmt.Errorf("backup file: %w", err)
	}
	db, err := Open(ctx, url, 1)
	if err != nil {
		return err
	}
	var tables int
	err = db.GetContext(ctx, &tables, `
		SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'`)
	db.Close()
	if err != nil {
		return fmt.Errorf("check the database is empty: %w", err)
	}
	if tables > 0 {
		return ErrNotEmpty
	}
	cmd := exec.CommandContext(ctx, clientBinary(binDir, "pg_restore"),
		"--no-owner", "--no-privileges", "--single-transaction", "--exit-on-error", "--dbname="+url, file)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("pg_restore: %w: %s", err, lastLines(stderr.String()))
	}
	return nil
}

// RunningURL returns the connection string of database dbname on the
// private cluster in dir when a server is running there (another examd's),
// from the server's postmaster.pid: its process, port and socket folder.
func RunningURL(dir, dbname string) (string, bool) {
	raw, err := os.ReadFile(filepath.Join(dir, "data", "postmaster.pid"))
	if err != nil {
		return "", false
	}
	// Lines: pid, data folder, start time, port, socket folder, …
	lines := strings.Split(string(raw), "\n")
	if len(lines) < 5 {
		return "", false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(lines[0]))
	if err != nil || pid <= 0 || syscall.Kill(pid, 0) != nil {
		return "", false
	}
	port, sock := strings.TrimSpace(lines[3]), strings.TrimSpace(lines[4])
	if _, err := os.Stat(filepath.Join(sock, ".s.PGSQL."+port)); err != nil {
		return "", false
	}
	return fmt.Sprintf("host=%s port=%s user=postgres dbname=%s sslmode=disable", dsnQuote(sock), port, dsnQuote(dbname)), true
}

// clientBinary is the path of PostgreSQL's client program name (pg_dump,
// pg_restore) of the same install as the server binaries in binDir: in
// binDir, else beside the file binDir's postgres links to (a folder such as
// /usr/local/bin may hold links to the server programs only), else on PATH.
func clientBinary(binDir, name string) string {
	if p := filepath.Join(binDir, name); isExecutable(p) {
		return p
	}
	if real, err := filepath.EvalSymlinks(filepath.Join(binDir, "postgres")); err == nil {
		if p := filepath.Join(filepath.Dir(real), name); isExecutable(p) {
			return p
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	return filepath.Join(binDir, name)
}
