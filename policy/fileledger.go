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
// token issued before a restart confirms after it, once. It is also an
// ApprovalStore, so that the approval pages of another process (`approvals
// --listen`) see the requests and decide them.
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
	for _, stmt := range []string{`CREATE TABLE IF NOT EXISTS confirmations (
		key   TEXT PRIMARY KEY,
		entry TEXT NOT NULL,
		spent INTEGER NOT NULL DEFAULT 0,
		keep  INTEGER NOT NULL
	)`, `CREATE TABLE IF NOT EXISTS approvals (
		id      TEXT PRIMARY KEY,
		status  TEXT NOT NULL,
		data    TEXT NOT NULL,
		created INTEGER NOT NULL,
		keep    INTEGER NOT NULL
	)`,
		`CREATE INDEX IF NOT EXISTS approvals_created ON approvals (created DESC, id)`,
		`CREATE INDEX IF NOT EXISTS approvals_keep ON approvals (keep)`,
		`CREATE TABLE IF NOT EXISTS sessions (
		key     TEXT PRIMARY KEY,
		data    TEXT NOT NULL,
		expires INTEGER NOT NULL
	)`,
	} {
		if _, err = db.Exec(stmt); err != nil {
			db.Close()
			return nil, fmt.Errorf("confirmation ledger %s: %w", path, err)
		}
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

// The approvals table keeps each request's JSON in data, its status beside
// it for the compare-and-set of UpdateApproval, and created and keep in
// unix microseconds.

// PutApproval implements ApprovalStore; it also forgets requests past
// their keep time. An id already stored is an error: a request is never
// replaced but by UpdateApproval.
func (l *FileLedger) PutApproval(ctx context.Context, a *Approval, keep time.Time) error {
	b, err := json.Marshal(a)
	if err != nil {
		return err
	}
	if _, err := l.db.ExecContext(ctx, `DELETE FROM approvals WHERE keep < ?`, l.now().UnixMicro()); err != nil {
		return err
	}
	_, err = l.db.ExecContext(ctx, `INSERT INTO approvals (id, status, data, created, keep) VALUES (?, ?, ?, ?, ?)`,
		a.ID, a.Status, string(b), a.Created.UnixMicro(), keep.UnixMicro())
	return err
}

// Approval implements ApprovalStore.
func (l *FileLedger) Approval(ctx context.Context, id string) (*Approval, error) {
	var raw string
	err := l.db.QueryRowContext(ctx, `SELECT data FROM approvals WHERE id = ? AND keep >= ?`, id, l.now().UnixMicro()).Scan(&raw)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, nil
	case err != nil:
		return nil, err
	}
	return decodeStoredApproval(raw)
}

// UpdateApproval implements ApprovalStore with one UPDATE conditioned on
// the status, so that of concurrent updates, in any number of processes,
// one wins.
func (l *FileLedger) UpdateApproval(ctx context.Context, a *Approval, from string) (bool, error) {
	b, err := json.Marshal(a)
	if err != nil {
		return false, err
	}
	res, err := l.db.ExecContext(ctx, `UPDATE approvals SET status = ?, data = ? WHERE id = ? AND status = ? AND keep >= ?`,
		a.Status, string(b), a.ID, from, l.now().UnixMicro())
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// Approvals implements ApprovalStore.
func (l *FileLedger) Approvals(ctx context.Context, limit int) ([]*Approval, error) {
	if limit <= 0 {
		return nil, nil
	}
	rows, err := l.db.QueryContext(ctx, `SELECT data FROM approvals WHERE keep >= ? ORDER BY created DESC, id LIMIT ?`, l.now().UnixMicro(), limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Approval
	for rows.Next() {
		var raw string
		if err := rows.Scan(&raw); err != nil {
			return nil, err
		}
		a, err := decodeStoredApproval(raw)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	SortApprovals(out) // the same order as the other stores among equal microseconds
	return out, nil
}

func decodeStoredApproval(raw string) (*Approval, error) {
	a, err := DecodeApproval([]byte(raw))
	if err != nil {
		return nil, fmt.Errorf("approval store: an unreadable request: %w", err)
	}
	return a, nil
}

// Close closes the file.
func (l *FileLedger) Close() error { return l.db.Close() }

// PutSession implements SessionStore; it also forgets expired sessions.
func (l *FileLedger) PutSession(ctx context.Context, key string, s *ApproverSession) error {
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	if _, err := l.db.ExecContext(ctx, `DELETE FROM sessions WHERE expires <= ?`, l.now().UnixMicro()); err != nil {
		return err
	}
	_, err = l.db.ExecContext(ctx, `INSERT OR REPLACE INTO sessions (key, data, expires) VALUES (?, ?, ?)`, key, string(b), s.Expires.UnixMicro())
	return err
}

// Session implements SessionStore.
func (l *FileLedger) Session(ctx context.Context, key string) (*ApproverSession, error) {
	var raw string
	err := l.db.QueryRowContext(ctx, `SELECT data FROM sessions WHERE key = ? AND expires > ?`, key, l.now().UnixMicro()).Scan(&raw)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, nil
	case err != nil:
		return nil, err
	}
	var s ApproverSession
	if err := json.Unmarshal([]byte(raw), &s); err != nil {
		return nil, fmt.Errorf("confirmation ledger: an unreadable session: %w", err)
	}
	return &s, nil
}

// DeleteSession implements SessionStore.
func (l *FileLedger) DeleteSession(ctx context.Context, key string) error {
	_, err := l.db.ExecContext(ctx, `DELETE FROM sessions WHERE key = ?`, key)
	return err
}
