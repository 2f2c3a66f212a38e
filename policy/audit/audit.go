// Package audit keeps the tamper-evident, append-only audit log: one JSON
// object per line (JSON Lines), each carrying the SHA-256 of the line before
// it ("prev") and of its own content ("hash").
//
// The chain makes a change to a line, or a deleted, inserted or reordered
// line, visible to Verify. It is evidence against accidents and casual
// edits, not a signature: whoever can write the file can also recompute every
// hash after an edit, and cutting off the last lines leaves a shorter chain
// that still verifies. Ship the log (or its record count and latest hash)
// elsewhere when that matters.
//
// Every Append is written with one write call and fsynced before it returns,
// so a record that Append acknowledged survives a crash. The policy layer
// relies on this: the record that a change is about to be sent is on disk
// before the request leaves.
package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/whmcs-mcp/whmcs-mcp/internal/logging"
)

// Events of a Record.
const (
	EventPreview        = "preview"
	EventConfirmation   = "confirmation"
	EventRefusal        = "refusal"
	EventIntent         = "intent"
	EventExecution      = "execution"
	EventFailure        = "failure"
	EventOutcomeUnknown = "outcome_unknown"
	EventDeclined       = "declined"
)

// GenesisPrev is the Prev of a log's first record: 64 zeros.
const GenesisPrev = "0000000000000000000000000000000000000000000000000000000000000000"

// Record is one audit record, written as one line of JSON.
type Record struct {
	// Time is when the record was appended (UTC); Append sets it if zero.
	Time time.Time `json:"time"`
	// Instance names the server (replica) that wrote the record, so that
	// the logs of several replicas can be merged and told apart.
	Instance string `json:"instance,omitempty"`
	// Event is what happened: preview, confirmation, refusal, intent,
	// execution, failure, outcome_unknown or declined.
	Event string `json:"event"`
	// Principal names the caller.
	Principal string `json:"principal"`
	// Subject and ClientID are the sub and client id of the caller's OAuth
	// access token, if it used one (never the token).
	Subject  string `json:"sub,omitempty"`
	ClientID string `json:"client_id,omitempty"`
	// Tool is the MCP tool called.
	Tool string `json:"tool"`
	// Arguments are the call's arguments; Append redacts secrets.
	Arguments map[string]any `json:"arguments,omitempty"`
	// TokenID identifies the confirmation token involved, if any.
	TokenID string `json:"token_id,omitempty"`
	// Outcome is a short text: "confirmation_required", "done",
	// "refused: expired", ...
	Outcome string `json:"outcome,omitempty"`
	// Reply is WHMCS's reply or error message; Append redacts secrets.
	Reply any `json:"whmcs,omitempty"`
	// ApprovalID identifies the approval request involved, if any;
	// Approver names the member of staff who decided it, and Reason is what
	// they wrote.
	ApprovalID string `json:"approval_id,omitempty"`
	Approver   string `json:"approver,omitempty"`
	Reason     string `json:"reason,omitempty"`
	// Prev is the hex SHA-256 of the previous line's bytes (without its
	// newline); GenesisPrev for the first record. Append sets it.
	Prev string `json:"prev"`
	// Hash is the hex SHA-256 of this line as written without its hash
	// field, so that a change to the last line is also detected. Append
	// sets it; it is always the line's last field.
	Hash string `json:"hash,omitempty"`
}

// ErrClosed is returned by Append on a closed Log.
var ErrClosed = errors.New("audit log is closed")

// Log is an open audit log. It is safe for concurrent use; its records are
// totally ordered.
type Log struct {
	mu     sync.Mutex
	f      *os.File // nil: Discard
	path   string
	size   int64  // bytes of complete records in the file
	prev   string // hash of the last line, the next record's Prev
	torn   string
	closed bool
	broken error // set when the file's state is unknown; every Append fails
}

// Open opens the audit log at path for appending, creating it (mode 0600) if
// needed, and continues the chain from the hash of its last complete line.
//
// A last line without a trailing newline is a torn write left by a crash:
// Append writes a record and its newline with one write call and returns
// only after fsync, so a line whose newline never reached the disk belongs
// to an Append that never returned, and the WHMCS request that record
// announced was never sent. Open truncates that tail so the chain continues
// from the last complete record; TornTail returns the removed bytes for the
// caller to report. A tail that does not look like the start of a record is
// not truncated: Open fails instead, so that a wrong path never destroys data.
//
// On Linux and the BSDs, Open takes an exclusive lock on the file: a second
// process appending to the same log would interleave two chains.
func Open(path string) (*Log, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	l := &Log{f: f, path: path}
	if err := l.resume(); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return l, nil
}

// resume locks the file, removes a torn tail and finds the chain's last hash.
func (l *Log) resume() error {
	if err := lockFile(l.f); err != nil {
		return err
	}
	info, err := l.f.Stat()
	if err != nil {
		return err
	}
	if !info.Mode().IsRegular() {
		return errors.New("not a regular file")
	}
	size := info.Size()
	end, err := lastByteIndex(l.f, size, '\n') // the last complete line's newline, or -1
	if err != nil {
		return err
	}
	if complete := end + 1; complete < size {
		tail := make([]byte, size-complete)
		if _, err := l.f.ReadAt(tail, complete); err != nil {
			return err
		}
		if !looksLikeRecordStart(tail) {
			return fmt.Errorf("does not look like an audit log: its last %d bytes are neither a complete line nor the start of a record", len(tail))
		}
		if err := l.f.Truncate(complete); err != nil {
			return fmt.Errorf("removing a torn last line: %w", err)
		}
		if err := l.f.Sync(); err != nil {
			return fmt.Errorf("removing a torn last line: %w", err)
		}
		l.torn, size = string(tail), complete
	}
	l.size, l.prev = size, GenesisPrev
	if size == 0 {
		return nil
	}
	start, err := lastByteIndex(l.f, size-1, '\n')
	if err != nil {
		return err
	}
	line := make([]byte, size-1-(start+1))
	if _, err := l.f.ReadAt(line, start+1); err != nil {
		return err
	}
	var last struct {
		Prev *string `json:"prev"`
	}
	if json.Unmarshal(line, &last) != nil || last.Prev == nil {
		return errors.New("does not look like an audit log: its last line is not an audit record")
	}
	l.prev = lineHash(line)
	return nil
}

// lastByteIndex returns the offset of the last b in f's first end bytes, or
// -1, reading backwards so that opening a large log stays cheap.
func lastByteIndex(f *os.File, end int64, b byte) (int64, error) {
	buf := make([]byte, 64<<10)
	for end > 0 {
		n := min(int64(len(buf)), end)
		chunk := buf[:n]
		if _, err := f.ReadAt(chunk, end-n); err != nil {
			return 0, err
		}
		if i := bytes.LastIndexByte(chunk, b); i >= 0 {
			return end - n + int64(i), nil
		}
		end -= n
	}
	return -1, nil
}

// recordStart is how every line Append writes begins.
const recordStart = `{"time":"`

// looksLikeRecordStart reports whether a torn tail could be the beginning of
// a line written by Append.
func looksLikeRecordStart(tail []byte) bool {
	if len(tail) <= len(recordStart) {
		return strings.HasPrefix(recordStart, string(tail))
	}
	return strings.HasPrefix(string(tail), recordStart)
}

// TornTail returns the bytes of the torn last line that Open removed, or "".
func (l *Log) TornTail() string { return l.torn }

// Discard returns a Log that writes nowhere, for when no audit log is
// configured. Its Append still redacts and chains records, and returns them.
func Discard() *Log { return &Log{prev: GenesisPrev} }

// Append writes r as the log's next line and returns it as written: Time set
// (to now, in UTC) if zero, secrets in Arguments and Reply redacted, Prev and
// Hash set. The line is written with a single write call and fsynced before
// Append returns; an error means the record may not be on disk.
//
// When a write fails, Append truncates the file back to its last complete
// record; if that fails too, or fsync fails (after which the kernel may have
// dropped the data), the log is marked broken and every later Append fails,
// because the chain's state on disk is no longer known.
func (l *Log) Append(r Record) (Record, error) {
	var err error
	if r.Arguments, err = redactArguments(r.Arguments); err != nil {
		return Record{}, fmt.Errorf("audit record arguments: %w", err)
	}
	if r.Reply, err = Redact(r.Reply); err != nil {
		return Record{}, fmt.Errorf("audit record reply: %w", err)
	}

	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.closed:
		return Record{}, ErrClosed
	case l.broken != nil:
		return Record{}, l.broken
	}
	if r.Time.IsZero() { // under the lock, so that times follow the chain's order
		r.Time = time.Now().UTC()
	}
	line, err := encode(&r, l.prev)
	if err != nil {
		return Record{}, err
	}
	if l.f != nil {
		if err := l.write(line); err != nil {
			return Record{}, err
		}
	}
	l.prev = lineHash(line[:len(line)-1])
	return r, nil
}

// write appends one line (with its newline) and fsyncs it.
func (l *Log) write(line []byte) error {
	n, err := l.f.Write(line)
	if err != nil || n != len(line) {
		if err == nil {
			err = io.ErrShortWrite
		}
		if terr := l.f.Truncate(l.size); terr != nil {
			l.broken = fmt.Errorf("audit log %s is unusable: a write failed (%v) and the partial line could not be removed (%v)", l.path, err, terr)
		}
		return fmt.Errorf("writing audit log %s: %w", l.path, err)
	}
	if err := l.f.Sync(); err != nil {
		l.broken = fmt.Errorf("audit log %s is unusable: fsync failed: %w", l.path, err)
		return l.broken
	}
	l.size += int64(len(line))
	return nil
}

// encode sets r's Prev and Hash and returns its line with the newline.
func encode(r *Record, prev string) ([]byte, error) {
	r.Prev, r.Hash = prev, ""
	body, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("encoding audit record: %w", err)
	}
	r.Hash = lineHash(body)
	// body ends with the closing brace of the object; the hash goes before it.
	line := make([]byte, 0, len(body)+len(hashFieldPrefix)+len(r.Hash)+3)
	line = append(line, body[:len(body)-1]...)
	line = append(line, hashFieldPrefix...)
	line = append(line, r.Hash...)
	line = append(line, "\"}\n"...)
	return line, nil
}

// hashFieldPrefix starts the hash field at the end of every line.
const hashFieldPrefix = `,"hash":"`

// hashSuffixLen is the length of `,"hash":"<64 hex>"}`.
var hashSuffixLen = len(hashFieldPrefix) + sha256.Size*2 + 2

// lineHash returns the hex SHA-256 of a line without its newline.
func lineHash(line []byte) string {
	sum := sha256.Sum256(line)
	return hex.EncodeToString(sum[:])
}

// Close closes the log's file. Later Appends fail with ErrClosed.
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	if l.f == nil {
		return nil
	}
	return l.f.Close() // closing the file releases its lock
}

// redactArguments returns a copy of args with secrets redacted.
func redactArguments(args map[string]any) (map[string]any, error) {
	if args == nil {
		return nil, nil
	}
	v, err := Redact(args)
	if err != nil {
		return nil, err
	}
	m, _ := v.(map[string]any)
	return m, nil
}

// Redact returns v as plain JSON values (maps, slices, strings, json.Number,
// bools, nil) in which the value of every object key that names a secret
// (logging.IsSecretKey: passwords such as servicepassword or the password in
// WHMCS's service records, secrets, tokens, authorization) is
// logging.Redacted, at any depth. Structs are seen through their JSON
// encoding, so their json tags decide the key names; an error becomes its
// message. v itself is not changed.
func Redact(v any) (any, error) {
	switch e := v.(type) {
	case nil:
		return nil, nil
	case error:
		v = e.Error() // an error's fields would encode as {}; its message is what matters
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber() // keep amounts and ids exactly as given
	var plain any
	if err := dec.Decode(&plain); err != nil {
		return nil, err
	}
	return redactValue(plain), nil
}

func redactValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, item := range v {
			if logging.IsSecretKey(k) {
				v[k] = logging.Redacted
			} else {
				v[k] = redactValue(item)
			}
		}
	case []any:
		for i, item := range v {
			v[i] = redactValue(item)
		}
	}
	return v
}
