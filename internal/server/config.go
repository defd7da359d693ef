package server

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"strconv"
	"time"

	"golang.org/x/crypto/bcrypt"

	"examd/issuance"
)

// Config is examd's configuration, read from EXAMD_* variables (and
// DATABASE_URL), then flags, and validated before use.
type Config struct {
	Command         string        // "serve" or "migrate"
	Addr            string        // EXAMD_ADDR
	DatabaseURL     string        // DATABASE_URL; empty: a private cluster under DataDir/pg
	DataDir         string        // EXAMD_DATA_DIR
	AdminPassword   string        // EXAMD_ADMIN_PASSWORD, used once, on an empty database
	TokenTTL        time.Duration // EXAMD_TOKEN_TTL
	BcryptCost      int           // EXAMD_BCRYPT_COST
	DBMaxConns      int           // EXAMD_DB_MAX_CONNS
	ShutdownTimeout time.Duration // EXAMD_SHUTDOWN_TIMEOUT
	LogLevel        slog.Level    // EXAMD_LOG_LEVEL
	// CombinedOnSubject2Fail is BK-COMBINED-FAIL's setting
	// (EXAMD_COMBINED_ON_SUBJECT2_FAIL): keep or release the subject 3 half
	// of a combined booking whose subject 2 ends failed.
	CombinedOnSubject2Fail string
	// LicenceFeeYuan is the production fee paid at the desk's review step
	// (EXAMD_LICENCE_FEE_YUAN, IS-STEPS).
	LicenceFeeYuan int
	// CookieSecure marks the web pages' cookies Secure (EXAMD_COOKIE_SECURE):
	// set it when browsers reach examd over HTTPS.
	CookieSecure bool
	// Now is examd's clock: every rule and job asks it the time. run sets
	// it to time.Now; no variable or flag sets it, only tests (Run).
	Now func() time.Time
}

// LoadConfig reads the environment and the command line.
func LoadConfig(args []string, getenv func(string) string, stderr io.Writer) (Config, error) {
	cfg := Config{
		Command:       "serve",
		Addr:          or(getenv("EXAMD_ADDR"), "127.0.0.1:8080"),
		DatabaseURL:   getenv("DATABASE_URL"),
		DataDir:       or(getenv("EXAMD_DATA_DIR"), ".examd"),
		AdminPassword: getenv("EXAMD_ADMIN_PASSWORD"),
		TokenTTL:      12 * time.Hour,
		BcryptCost:    bcrypt.DefaultCost,
		// A few connections per core keep PostgreSQL busy without making its
		// backends fight over the cores and the slots' row locks (BENCHMARKS.md).
		DBMaxConns:             max(8, 4*runtime.NumCPU()),
		ShutdownTimeout:        10 * time.Second,
		CombinedOnSubject2Fail: or(getenv("EXAMD_COMBINED_ON_SUBJECT2_FAIL"), "keep"),
		LicenceFeeYuan:         issuance.DefaultFeeYuan,
		Now:                    time.Now,
	}
	var errs []error
	parse := func(name string, set func(string) error) {
		if v := getenv(name); v != "" {
			if err := set(v); err != nil {
				errs = append(errs, fmt.Errorf("%s=%q: %w", name, v, err))
			}
		}
	}
	parse("EXAMD_TOKEN_TTL", func(v string) (err error) { cfg.TokenTTL, err = time.ParseDuration(v); return })
	parse("EXAMD_SHUTDOWN_TIMEOUT", func(v string) (err error) { cfg.ShutdownTimeout, err = time.ParseDuration(v); return })
	parse("EXAMD_BCRYPT_COST", func(v string) (err error) { cfg.BcryptCost, err = strconv.Atoi(v); return })
	parse("EXAMD_DB_MAX_CONNS", func(v string) (err error) { cfg.DBMaxConns, err = strconv.Atoi(v); return })
	parse("EXAMD_LICENCE_FEE_YUAN", func(v string) (err error) { cfg.LicenceFeeYuan, err = strconv.Atoi(v); return })
	parse("EXAMD_COOKIE_SECURE", func(v string) (err error) { cfg.CookieSecure, err = strconv.ParseBool(v); return })
	parse("EXAMD_LOG_LEVEL", func(v string) error { return cfg.LogLevel.UnmarshalText([]byte(v)) })
	if len(errs) > 0 {
		return cfg, errs[0]
	}

	fs := flag.NewFlagSet("examd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: examd [flags] [serve|migrate]\n       examd simulate [flags]  (examd simulate -h)")
		fs.PrintDefaults()
	}
	fs.StringVar(&cfg.Addr, "addr", cfg.Addr, "listen address (EXAMD_ADDR)")
	fs.StringVar(&cfg.DataDir, "data", cfg.DataDir, "folder of the private PostgreSQL cluster (EXAMD_DATA_DIR)")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	switch rest := fs.Args(); {
	case len(rest) == 0:
	case len(rest) == 1 && (rest[0] == "serve" || rest[0] == "migrate"):
		cfg.Command = rest[0]
	default:
		return cfg, fmt.Errorf("unknown command %q: want serve or migrate", rest)
	}

	switch {
	case cfg.TokenTTL < time.Minute:
		return cfg, fmt.Errorf("EXAMD_TOKEN_TTL must be at least 1m")
	case cfg.BcryptCost < bcrypt.MinCost || cfg.BcryptCost > bcrypt.MaxCost:
		return cfg, fmt.Errorf("EXAMD_BCRYPT_COST must be between %d and %d", bcrypt.MinCost, bcrypt.MaxCost)
	case cfg.DBMaxConns < 2 || cfg.DBMaxConns > 500:
		return cfg, fmt.Errorf("EXAMD_DB_MAX_CONNS must be between 2 and 500")
	case cfg.CombinedOnSubject2Fail != "keep" && cfg.CombinedOnSubject2Fail != "release":
		return cfg, fmt.Errorf("EXAMD_COMBINED_ON_SUBJECT2_FAIL must be keep or release")
	case cfg.LicenceFeeYuan < 0 || cfg.LicenceFeeYuan > 10000:
		return cfg, fmt.Errorf("EXAMD_LICENCE_FEE_YUAN must be between 0 and 10000")
	case cfg.ShutdownTimeout <= 0:
		return cfg, fmt.Errorf("EXAMD_SHUTDOWN_TIMEOUT must be positive")
	case cfg.AdminPassword != "" && (len(cfg.AdminPassword) < 8 || len(cfg.AdminPassword) > 72):
		return cfg, fmt.Errorf("EXAMD_ADMIN_PASSWORD must have 8 to 72 bytes")
	}
	return cfg, nil
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
