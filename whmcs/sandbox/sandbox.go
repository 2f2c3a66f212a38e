package sandbox

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// DefaultIdentifier and DefaultSecret are the API credentials the sandbox
// accepts when Options leaves them empty.
const (
	DefaultIdentifier = "sandbox-identifier"
	DefaultSecret     = "sandbox-secret"
)

// Options configures a Sandbox.
type Options struct {
	DBPath     string // SQLite file; "" = private in-memory database
	Identifier string // API credential identifier; "" = DefaultIdentifier
	Secret     string // API credential secret; "" = DefaultSecret
	// AllowIPs and AccessKey are WHMCS's API access control: a request from
	// an address on AllowIPs needs no access key, any other must carry
	// accesskey=AccessKey, or gets "Invalid IP <address>" (HTTP 403). With
	// neither set every address is let in (a WHMCS install without allowed
	// IPs and key would let none in; a sandbox with such a default would
	// only be in the way).
	AllowIPs  []string
	AccessKey string
	Now       func() time.Time // clock; nil = time.Now. Use FixedClock(t) for reproducible results
	// DeniedActions are actions the credential's API role does not allow
	// (names case-insensitive); they get WHMCS's "Invalid Permissions" error.
	DeniedActions []string
	Logger        *slog.Logger // optional
}

// FixedClock returns a clock that always reads t. "Today" for the sandbox is
// t's calendar date in t's own location.
func FixedClock(t time.Time) func() time.Time {
	return func() time.Time { return t }
}

// Sandbox is a WHMCS-compatible API backed by SQLite. It is an http.Handler
// and is safe for concurrent use.
type Sandbox struct {
	db         *sql.DB
	identifier string
	secret     string
	accessKey  string
	allowIPs   map[netip.Addr]bool // the API IP allowlist, as unmapped addresses
	denied     map[string]bool     // lower-cased action names the API role does not allow
	now        func() time.Time
	log        *slog.Logger
	writes     atomic.Int64
	closeOnce  sync.Once
	closeErr   error
}

var memoryDBCounter atomic.Int64

// Open opens (or creates) the sandbox database, creates the schema and seeds
// the demo data when the database holds no clients yet. Dates of the demo
// services of clients 2 to 4 are relative to opts.Now at seed time.
func Open(opts Options) (*Sandbox, error) {
	s := &Sandbox{
		identifier: opts.Identifier,
		secret:     opts.Secret,
		accessKey:  opts.AccessKey,
		denied:     map[string]bool{},
		now:        opts.Now,
		log:        opts.Logger,
	}
	for _, a := range opts.DeniedActions {
		s.denied[strings.ToLower(a)] = true
	}
	for _, ip := range opts.AllowIPs {
		addr, err := netip.ParseAddr(strings.TrimSpace(ip))
		if err != nil {
			return nil, fmt.Errorf("sandbox: allowed IP %q: %w", ip, err)
		}
		if s.allowIPs == nil {
			s.allowIPs = map[netip.Addr]bool{}
		}
		s.allowIPs[addr.Unmap().WithZone("")] = true
	}
	if s.identifier == "" {
		s.identifier = DefaultIdentifier
	}
	if s.secret == "" {
		s.secret = DefaultSecret
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}

	// One connection: SQLite serializes writers anyway, and a single
	// connection makes every request's transaction (read-check-write
	// sequences included) atomic with respect to the others. For an
	// in-memory database it also keeps the database alive, and a unique
	// shared-cache name keeps two sandboxes in one process apart.
	params := "_pragma=foreign_keys(1)&_pragma=busy_timeout(5000)&_txlock=immediate"
	var dsn string
	if opts.DBPath == "" {
		name := fmt.Sprintf("whmcs-sandbox-%d-%d", time.Now().UnixNano(), memoryDBCounter.Add(1))
		dsn = "file:" + name + "?mode=memory&cache=shared&" + params
	} else {
		dsn = "file:" + (&url.URL{Path: opts.DBPath}).EscapedPath() + "?" + params + "&_pragma=journal_mode(WAL)"
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("sandbox: open database: %w", err)
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	s.db = db

	ctx := context.Background()
	if err := s.init(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// init creates the schema and seeds the demo data into an empty database, in
// one transaction.
func (s *Sandbox) init(ctx context.Context) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sandbox: begin: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, schema); err != nil {
		return fmt.Errorf("sandbox: create schema: %w", err)
	}
	if err := addColumns(ctx, tx); err != nil {
		return fmt.Errorf("sandbox: update schema: %w", err)
	}
	var n int
	if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM tblclients").Scan(&n); err != nil {
		return fmt.Errorf("sandbox: count clients: %w", err)
	}
	if n == 0 {
		if err := seed(ctx, tx, civil(s.now())); err != nil {
			return fmt.Errorf("sandbox: seed demo data: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sandbox: commit: %w", err)
	}
	return nil
}

// Close closes the database. An in-memory database is gone afterwards.
func (s *Sandbox) Close() error {
	s.closeOnce.Do(func() { s.closeErr = s.db.Close() })
	return s.closeErr
}

// DB returns the underlying database, for tests that read or arrange data
// directly. The pool has a single connection: close every *sql.Rows before
// making another call, and do not hold a transaction open across requests to
// the sandbox.
func (s *Sandbox) DB() *sql.DB { return s.db }

// Writes returns the number of successful write actions executed so far
// (UpdateClientProduct, UpdateClientAddon, UpgradeProduct without calconly,
// AddInvoicePayment). A write action that answers an error is not counted.
func (s *Sandbox) Writes() int64 { return s.writes.Load() }

// SetProductPrice sets the price of product pid in currency (a code such as
// "USD") for one billing cycle, given by WHMCS name or short form ("monthly",
// "Semi-Annually"). A price of -1 disables the cycle, as in WHMCS. It is a
// test hook: it does not count as a write.
func (s *Sandbox) SetProductPrice(ctx context.Context, pid int, currency, cycleName string, price float64) error {
	c, ok := lookupCycle(cycleName)
	if !ok || c.Key == "free" {
		return fmt.Errorf("sandbox: unknown billing cycle %q", cycleName)
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		var curID int
		err := tx.QueryRowContext(ctx, "SELECT id FROM tblcurrencies WHERE code = ? COLLATE NOCASE", currency).Scan(&curID)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("sandbox: unknown currency %q", currency)
		} else if err != nil {
			return err
		}
		if ok, err := exists(ctx, tx, "SELECT 1 FROM tblproducts WHERE id = ?", pid); err != nil {
			return err
		} else if !ok {
			return fmt.Errorf("sandbox: product %d not found", pid)
		}
		if _, err := tx.ExecContext(ctx,
			"INSERT OR IGNORE INTO tblpricing (type, currency, relid) VALUES ('product', ?, ?)", curID, pid); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx,
			"UPDATE tblpricing SET "+c.PriceColumn()+" = ? WHERE type = 'product' AND currency = ? AND relid = ?",
			toCents(price).float(), curID, pid)
		return err
	})
}

// SetServiceStatus sets the status of service serviceID (one of Pending,
// Active, Suspended, Terminated, Cancelled, Fraud, Completed, any case). It is
// a test hook: it does not count as a write.
func (s *Sandbox) SetServiceStatus(ctx context.Context, serviceID int, status string) error {
	st, ok := lookupStatus(status)
	if !ok {
		return fmt.Errorf("sandbox: unknown status %q (valid: %s)", status, strings.Join(serviceStatuses, ", "))
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "UPDATE tblhosting SET domainstatus = ? WHERE id = ?", st, serviceID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("sandbox: service %d not found", serviceID)
		}
		return nil
	})
}

// inTx runs fn in a transaction and commits when it returns nil.
func (s *Sandbox) inTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// exists reports whether query returns a row.
func exists(ctx context.Context, tx *sql.Tx, query string, args ...any) (bool, error) {
	var one int
	err := tx.QueryRowContext(ctx, query, args...).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}
