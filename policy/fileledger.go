package policy

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// FileLedger is a Ledger in an SQLite file, for one server that restarts
// (or several processes on one machine, such as successive `call`s): a
// token issued before a restart confirms after it, once.
type FileLedger struct {
	db  *sql.DB
	now func() time.Time
}

// OpenFileLedger opens (creating if needed) the ledger file at path.
func OpenFileLedger(path string) (*FileLedger, error) {
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() +
		"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("confirmation ledger %s: %w", path, err)
	}
	_, err = db.Exec(`CREATE TABLE IF NOT EXISTS confirmations (
		key   TEXT PRIMARY KEY,
		entry TEXT NOT NULL,
		spent INTEGER NOT NULL DEFAULT 0,
		keep  INTEGER NOT NULL
	)`)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("confirmation ledger %s: %w", path, err)
	}
	return &FileLedger{db: db, now: time.Now}, nil
}

// Put implements Ledger; it also forgets entries past their keep time.
func (l *FileLedger) Put(ctx context.Context, key string, e *Entry, keep time.Time) error {
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	if _, err := l.db.ExecContext(ctx, `DELETE FROM confirmations WHERE keep < ?`, l.now().Unix()); err != nil {
		return err
	}
	_, err = l.db.ExecContext(ctx, `INSERT INTO confirmations (key, entry, keep) VALUES (?, ?, ?)`, key, string(b), keep.Unix())
	return err
}

// Take implements Ledger: one UPDATE marks the entry spent and returns it,
// so of concurrent Takes, in any number of processes, one wins.
func (l *FileLedger) Take(ctx context.Context, key string) (*Entry, error) {
	var raw string
	err := l.db.QueryRowContext(ctx, `UPDATE confirmations SET spent = 1 WHERE key = ? AND spent = 0 RETURNING entry`, key).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		var spent int
		switch err := l.db.QueryRowContext(ctx, `SELECT spent FROM confirmations WHERE key = ?`, key).Scan(&spent); {
		case errors.Is(err, sql.ErrNoRows):
			return nil, nil
		case err != nil:
			return nil, err
		}
		return nil, ErrSpent
	}
	if err != nil {
		return nil, err
	}
	var e Entry
	if err := json.Unmarshal([]byte(raw), &e); err != nil {
		return nil, fmt.Errorf("confirmation ledger: an unreadable entry: %w", err)
	}
	return &e, nil
}

// Close closes the file.
func (l *FileLedger) Close() error { return l.db.Close() }
