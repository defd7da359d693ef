package pg_test

import (
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"examd/internal/pg"
)

// env returns a getenv with only PATH set.
func env(path string) func(string) string {
	return func(k string) string {
		if k == "PATH" {
			return path
		}
		return ""
	}
}

// fakeBinaries creates dir holding executable files with the given names.
func fakeBinaries(t *testing.T, dir string, names ...string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

func TestFindServerBinariesWithEmptyPATHUsesUsrLib(t *testing.T) {
	got, err := pg.FindServerBinaries(env(""))
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(dirs) == 0 {
		if !errors.Is(err, pg.ErrNoServer) {
			t.Fatalf("no /usr/lib/postgresql here: got %q, %v; want ErrNoServer", got, err)
		}
		return
	}
	if err != nil {
		t.Fatalf("FindServerBinaries: %v", err)
	}
	if !strings.HasPrefix(got, "/usr/lib/postgresql/") {
		t.Fatalf("FindServerBinaries = %q, want a folder under /usr/lib/postgresql", got)
	}
	for _, name := range []string{"initdb", "postgres", "pg_ctl"} {
		if _, err := os.Stat(filepath.Join(got, name)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestFindServerBinariesNothingFound(t *testing.T) {
	root := t.TempDir()
	empty := filepath.Join(root, "empty")
	fakeBinaries(t, empty, "initdb", "postgres") // no pg_ctl: not enough
	_, err := pg.FindServerBinariesIn(env(empty+":"+filepath.Join(root, "missing")), filepath.Join(root, "lib", "*", "bin"))
	if !errors.Is(err, pg.ErrNoServer) {
		t.Fatalf("err = %v, want ErrNoServer", err)
	}
	msg := err.Error()
	if strings.Contains(msg, "\n") || !strings.Contains(msg, "postgresql") || !strings.Contains(msg, "DATABASE_URL") {
		t.Errorf("message %q: want one line naming the package postgresql and DATABASE_URL", msg)
	}
}

func TestFindServerBinariesSearchOrder(t *testing.T) {
	root := t.TempDir()
	lib := filepath.Join(root, "lib")
	for _, v := range []string{"9.6", "10", "15"} {
		fakeBinaries(t, filepath.Join(lib, v, "bin"), "initdb", "postgres", "pg_ctl")
	}
	fakeBinaries(t, filepath.Join(lib, "16", "bin"), "initdb", "postgres") // incomplete
	pattern := filepath.Join(lib, "*", "bin")

	onPath := filepath.Join(root, "onpath")
	fakeBinaries(t, onPath, "initdb", "postgres", "pg_ctl")
	configured := filepath.Join(root, "configured")
	fakeBinaries(t, configured, "initdb", "postgres", "pg_ctl")
	withConfig := filepath.Join(root, "withconfig")
	fakeBinaries(t, withConfig)
	script := "#!/bin/sh\necho " + configured + "\n"
	if err := os.WriteFile(filepath.Join(withConfig, "pg_config"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name, path, want string
	}{
		{"PATH first", withConfig + ":" + onPath, onPath},
		{"then pg_config", filepath.Join(root, "missing") + ":" + withConfig, configured},
		{"then the highest version", filepath.Join(root, "missing"), filepath.Join(lib, "15", "bin")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := pg.FindServerBinariesIn(env(tt.path), pattern)
			if err != nil || got != tt.want {
				t.Fatalf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
	dirs, _ := filepath.Glob(pattern)
	sort.Strings(dirs)
	if len(dirs) != 4 {
		t.Fatalf("setup: %v", dirs)
	}
}
