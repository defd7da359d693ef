package pg

import (
	"os"
	"path/filepath"
	"testing"
)

// TestClientBinary: pg_dump is found beside the server's postgres when the
// folder on PATH holds links to the server programs only (as
// /usr/local/bin may), and in the install folder itself.
func TestClientBinary(t *testing.T) {
	bin, err := FindServerBinaries(func(string) string { return "" })
	if err != nil {
		t.Skip(err)
	}
	want := filepath.Join(bin, "pg_dump")
	if !isExecutable(want) {
		t.Skipf("no pg_dump in %s", bin)
	}
	if got := clientBinary(bin, "pg_dump"); got != want {
		t.Errorf("in the install folder: %s, want %s", got, want)
	}
	links := t.TempDir()
	for _, name := range []string{"initdb", "postgres", "pg_ctl"} {
		if err := os.Symlink(filepath.Join(bin, name), filepath.Join(links, name)); err != nil {
			t.Fatal(err)
		}
	}
	if got := clientBinary(links, "pg_dump"); got != want {
		t.Errorf("beside links to the server programs: %s, want %s", got, want)
	}
}
