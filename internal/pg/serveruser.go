package pg

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
)

// serverUser is the OS user the server processes run as: nil when examd is
// not root (the server then runs as examd's own user), the user postgres
// when it is, since PostgreSQL refuses to run as root.
type serverUser struct {
	uid, gid uint32
	groups   []uint32
}

// lookupServerUser returns the user to run the server as, nil when that is
// the current user.
func lookupServerUser() (*serverUser, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root, so PostgreSQL must run as the OS user postgres, which was not found (install the Debian package postgresql or add the user): %w", err)
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("user postgres: uid %q: %w", u.Uid, err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("user postgres: gid %q: %w", u.Gid, err)
	}
	su := &serverUser{uid: uint32(uid), gid: uint32(gid), groups: []uint32{uint32(gid)}}
	ids, err := u.GroupIds()
	if err != nil {
		return nil, fmt.Errorf("user postgres: groups: %w", err)
	}
	for _, id := range ids {
		if g, err := strconv.ParseUint(id, 10, 32); err == nil {
			su.groups = append(su.groups, uint32(g))
		}
	}
	return su, nil
}

// command returns an exec.Cmd for the server program bin that runs as the
// server user.
func (su *serverUser) command(bin string, args ...string) *exec.Cmd {
	cmd := exec.Command(bin, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{}
	if su != nil {
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: su.uid, Gid: su.gid, Groups: su.groups}
	}
	return cmd
}

// own gives path to the server user.
func (su *serverUser) own(path string) error {
	if su == nil {
		return nil
	}
	if err := os.Chown(path, int(su.uid), int(su.gid)); err != nil {
		return fmt.Errorf("give %s to the user postgres: %w", path, err)
	}
	return nil
}

// checkReachable fails with a one-line error when the server user can't
// traverse one of the folders above dir.
func (su *serverUser) checkReachable(dir string) error {
	if su == nil {
		return nil
	}
	for p := filepath.Dir(dir); ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("check folder %s: %w", p, err)
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		if !ok {
			return nil
		}
		perm := fi.Mode().Perm()
		var can bool
		switch {
		case st.Uid == su.uid:
			can = perm&0o100 != 0
		case slices.Contains(su.groups, st.Gid):
			can = perm&0o010 != 0
		default:
			can = perm&0o001 != 0
		}
		if !can {
			return fmt.Errorf("the PostgreSQL server runs as the OS user postgres, which cannot traverse the folder %s (mode %v, owner uid %d): allow it (chmod o+x %s) or put the data elsewhere", p, fi.Mode(), st.Uid, p)
		}
		if p == filepath.Dir(p) {
			return nil
		}
	}
}
