package server

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"examd/internal/auth"
	"examd/internal/notify"
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
	// BodyTimeout bounds the read of a request's body (EXAMD_BODY_TIMEOUT):
	// a request waits for no place in the database gate before its body is
	// in, and a body that dribbles in slower is refused with 408.
	BodyTimeout time.Duration
	// TrustedProxies are the peers whose X-Forwarded-For names the client
	// (EXAMD_TRUSTED_PROXIES, CIDRs separated by commas); empty: the peer
	// is the client.
	TrustedProxies []*net.IPNet
	// Throttle is the login throttle (EXAMD_LOGIN_*).
	Throttle auth.Throttle
	// HashWorkers is how many passwords are hashed or checked at once
	// (EXAMD_HASH_WORKERS).
	HashWorkers int
	// WSPerUser and WSMax cap the live websockets of one user and of this
	// process (EXAMD_WS_PER_USER, EXAMD_WS_MAX).
	WSPerUser, WSMax int
	// WSQueueBytes is how far behind, in bytes of events not yet written,
	// a screen may fall before it is closed with 4008
	// (EXAMD_WS_QUEUE_BYTES).
	WSQueueBytes int
	// NotifyWebhook is the office's SMS gateway endpoint, to which the
	// notifications' outbox is posted (EXAMD_NOTIFY_WEBHOOK); empty: nothing
	// is sent and the outbox is kept.
	NotifyWebhook string
	// NotifyTimeout bounds one POST to the gateway (EXAMD_NOTIFY_TIMEOUT).
	NotifyTimeout time.Duration
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
		NotifyWebhook: getenv("EXAMD_NOTIFY_WEBHOOK"),
		NotifyTimeout: notify.DefaultSendTimeout,
		TokenTTL:      12 * time.Hour,
		BcryptCost:    bcrypt.DefaultCost,
		// A few connections per core keep PostgreSQL busy without making its
		// backends fight over the cores and the slots' row locks (BENCHMARKS.md).
		DBMaxConns:             max(8, 4*runtime.NumCPU()),
		ShutdownTimeout:        10 * time.Second,
		CombinedOnSubject2Fail: or(getenv("EXAMD_COMBINED_ON_SUBJECT2_FAIL"), "keep"),
		LicenceFeeYuan:         issuance.DefaultFeeYuan,
		BodyTimeout:            5 * time.Second,
		Throttle:               auth.DefaultThrottle(),
		HashWorkers:            runtime.NumCPU(),
		WSPerUser:              20,
		WSMax:                  10000,
		WSQueueBytes:           1 << 20,
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
	parse("EXAMD_BODY_TIMEOUT", func(v string) (err error) { cfg.BodyTimeout, err = time.ParseDuration(v); return })
	parse("EXAMD_TRUSTED_PROXIES", func(v string) (err error) { cfg.TrustedProxies, err = parseCIDRs(v); return })
	th := &cfg.Throttle
	parse("EXAMD_LOGIN_PAIR_LIMIT", func(v string) (err error) { th.PairLimit, err = strconv.Atoi(v); return })
	parse("EXAMD_LOGIN_ADDRESS_LIMIT", func(v string) (err error) { th.AddressLimit, err = strconv.Atoi(v); return })
	parse("EXAMD_LOGIN_USERNAME_LIMIT", func(v string) (err error) { th.UsernameLimit, err = strconv.Atoi(v); return })
	parse("EXAMD_LOGIN_WINDOW", func(v string) (err error) { th.Window, err = time.ParseDuration(v); return })
	parse("EXAMD_LOGIN_BACKOFF", func(v string) (err error) { th.Backoff, err = time.ParseDuration(v); return })
	parse("EXAMD_LOGIN_BACKOFF_MAX", func(v string) (err error) { th.MaxBackoff, err = time.ParseDuration(v); return })
	parse("EXAMD_HASH_WORKERS", func(v string) (err error) { cfg.HashWorkers, err = strconv.Atoi(v); return })
	parse("EXAMD_WS_PER_USER", func(v string) (err error) { cfg.WSPerUser, err = strconv.Atoi(v); return })
	parse("EXAMD_WS_MAX", func(v string) (err error) { cfg.WSMax, err = strconv.Atoi(v); return })
	parse("EXAMD_NOTIFY_TIMEOUT", func(v string) (err error) { cfg.NotifyTimeout, err = time.ParseDuration(v); return })
	parse("EXAMD_WS_QUEUE_BYTES", func(v string) (err error) { cfg.WSQueueBytes, err = strconv.Atoi(v); return })
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
	case cfg.BodyTimeout < 100*time.Millisecond || cfg.BodyTimeout > time.Minute:
		return cfg, fmt.Errorf("EXAMD_BODY_TIMEOUT must be between 100ms and 1m")
	case th.PairLimit < 1 || th.AddressLimit < 1 || th.UsernameLimit < 1:
		return cfg, fmt.Errorf("EXAMD_LOGIN_PAIR_LIMIT, EXAMD_LOGIN_ADDRESS_LIMIT and EXAMD_LOGIN_USERNAME_LIMIT must be at least 1")
	case th.Window < time.Second || th.Backoff < time.Second || th.MaxBackoff < th.Backoff:
		return cfg, fmt.Errorf("EXAMD_LOGIN_WINDOW and EXAMD_LOGIN_BACKOFF must be at least 1s, EXAMD_LOGIN_BACKOFF_MAX at least EXAMD_LOGIN_BACKOFF")
	case cfg.HashWorkers < 1 || cfg.HashWorkers > 256:
		return cfg, fmt.Errorf("EXAMD_HASH_WORKERS must be between 1 and 256")
	case cfg.WSPerUser < 1 || cfg.WSMax < cfg.WSPerUser:
		return cfg, fmt.Errorf("EXAMD_WS_PER_USER must be at least 1, EXAMD_WS_MAX at least EXAMD_WS_PER_USER")
	case cfg.NotifyWebhook != "" && !validWebhook(cfg.NotifyWebhook):
		return cfg, fmt.Errorf("EXAMD_NOTIFY_WEBHOOK must be an http or https URL")
	case cfg.NotifyTimeout < 100*time.Millisecond || cfg.NotifyTimeout > time.Minute:
		return cfg, fmt.Errorf("EXAMD_NOTIFY_TIMEOUT must be between 100ms and 1m")
	case cfg.WSQueueBytes < 64<<10 || cfg.WSQueueBytes > 1<<30:
		return cfg, fmt.Errorf("EXAMD_WS_QUEUE_BYTES must be between 65536 (64 KiB) and 1073741824 (1 GiB)")
	}
	return cfg, nil
}

// validWebhook reports whether s is an absolute http or https URL.
func validWebhook(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// parseCIDRs reads addresses and networks separated by commas: a bare
// address is a network of one.
func parseCIDRs(v string) ([]*net.IPNet, error) {
	var nets []*net.IPNet
	for _, f := range strings.Split(v, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !strings.Contains(f, "/") {
			ip := net.ParseIP(f)
			if ip == nil {
				return nil, fmt.Errorf("%q is no address or CIDR", f)
			}
			bits := 8 * len(ip.To4())
			if bits == 0 {
				bits = 128
			}
			f = fmt.Sprintf("%s/%d", f, bits)
		}
		_, n, err := net.ParseCIDR(f)
		if err != nil {
			return nil, err
		}
		nets = append(nets, n)
	}
	return nets, nil
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
