package pg

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// ErrNoServer is returned by FindServerBinaries when no PostgreSQL server
// binaries are installed.
var ErrNoServer = errors.New("no PostgreSQL server binaries found: install the Debian package postgresql, or set DATABASE_URL to use an existing database")

// FindServerBinaries returns the folder holding the PostgreSQL server
// binaries (initdb, postgres, pg_ctl). It looks in the folders of
// getenv("PATH"), then in `pg_config --bindir` (pg_config found on that
// PATH), then in /usr/lib/postgresql/*/bin, highest version first. When none
// holds them it returns ErrNoServer.
func FindServerBinaries(getenv func(string) string) (string, error) {
	return findServerBinaries(getenv, "/usr/lib/postgresql/*/bin")
}

// findServerBinaries is FindServerBinaries with the pattern of the versioned
// install folders as a parameter, for tests.
func findServerBinaries(getenv func(string) string, versionedPattern string) (string, error) {
	path := filepath.SplitList(getenv("PATH"))
	for _, dir := range path {
		if dir != "" && hasServerBinaries(dir) {
			return dir, nil
		}
	}
	for _, dir := range path {
		pgConfig := filepath.Join(dir, "pg_config")
		if dir == "" || !isExecutable(pgConfig) {
			continue
		}
		out, err := exec.Command(pgConfig, "--bindir").Output()
		if bin := strings.TrimSpace(string(out)); err == nil && hasServerBinaries(bin) {
			return bin, nil
		}
		break // only the first pg_config on PATH counts, as for a shell
	}
	dirs, _ := filepath.Glob(versionedPattern) // the only possible error is a bad pattern
	sort.Slice(dirs, func(i, j int) bool { return versionLess(dirs[j], dirs[i]) })
	for _, dir := range dirs {
		if hasServerBinaries(dir) {
			return dir, nil
		}
	}
	return "", ErrNoServer
}

// hasServerBinaries reports whether dir holds all the server binaries.
func hasServerBinaries(dir string) bool {
	for _, name := range [...]string{"initdb", "postgres", "pg_ctl"} {
		if !isExecutable(filepath.Join(dir, name)) {
			return false
		}
	}
	return true
}

// isExecutable reports whether path is a regular file with an execute bit.
func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}

// versionLess orders install folders such as /usr/lib/postgresql/9.6/bin and
// /usr/lib/postgresql/15/bin by the version in their parent's name.
func versionLess(a, b string) bool {
	va, vb := versionOf(a), versionOf(b)
	for i := 0; i < len(va) && i < len(vb); i++ {
		if va[i] != vb[i] {
			return va[i] < vb[i]
		}
	}
	if len(va) != len(vb) {
		return len(va) < len(vb)
	}
	return a < b
}

// versionOf parses the numeric parts of the name of bin's parent folder.
func versionOf(bin string) []int {
	var v []int
	for _, part := range strings.Split(filepath.Base(filepath.Dir(bin)), ".") {
		n, err := strconv.Atoi(part)
		if err != nil {
			break
		}
		v = append(v, n)
	}
	return v
}
