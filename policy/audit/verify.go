package audit

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
)

// VerifyError names the first line of a log that breaks its chain.
type VerifyError struct {
	// Line is the 1-based number of the first bad line.
	Line int
	// Reason says what is wrong with it; it starts with one of "not JSON",
	// "not an audit record", "hash mismatch", "prev mismatch" or "torn".
	Reason string
}

// Error implements error.
func (e *VerifyError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Reason) }

// Verify checks a log's chain: every line is a JSON record whose hash matches
// its content and whose prev is the SHA-256 of the line before it (64 zeros
// for the first), and the last line ends with a newline. It returns nil, a
// *VerifyError naming the first bad line, or an error from reading r.
//
// A changed line fails its own hash (or is no longer JSON); a removed,
// inserted or reordered line fails the prev of the line at its place.
func Verify(r io.Reader) error {
	_, err := verify(r)
	return err
}

// VerifyFile verifies the log at path and returns how many records it holds;
// on a *VerifyError, how many lines verified before the bad one.
func VerifyFile(path string) (records int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return verify(f)
}

func verify(r io.Reader) (int, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	prev := GenesisPrev
	for n := 1; ; n++ {
		line, err := br.ReadBytes('\n')
		if err != nil && err != io.EOF {
			return n - 1, err
		}
		if len(line) == 0 { // end of input after a complete line
			return n - 1, nil
		}
		if line[len(line)-1] != '\n' {
			return n - 1, &VerifyError{Line: n, Reason: "torn: the last line is incomplete (no trailing newline), as a crash in the middle of a write leaves it"}
		}
		line = line[:len(line)-1]
		if reason := checkLine(line, prev, n); reason != "" {
			return n - 1, &VerifyError{Line: n, Reason: reason}
		}
		prev = lineHash(line)
	}
}

// checkLine returns why line (the n-th, without its newline) breaks the
// chain whose previous line hashed to prev, or "".
func checkLine(line []byte, prev string, n int) string {
	var rec struct {
		Prev *string `json:"prev"`
		Hash *string `json:"hash"`
	}
	if !json.Valid(line) {
		return "not JSON: the line was changed or is not an audit record"
	}
	if err := json.Unmarshal(line, &rec); err != nil || rec.Prev == nil || rec.Hash == nil {
		return "not an audit record: want a JSON object with prev and hash"
	}
	if len(line) < hashSuffixLen || !bytes.HasSuffix(line, []byte(`"}`)) ||
		!bytes.HasPrefix(line[len(line)-hashSuffixLen:], []byte(hashFieldPrefix)) ||
		string(line[len(line)-hashSuffixLen+len(hashFieldPrefix):len(line)-2]) != *rec.Hash {
		return "not an audit record: hash is not the line's last field"
	}
	body := append(bytes.Clone(line[:len(line)-hashSuffixLen]), '}')
	if lineHash(body) != *rec.Hash {
		return "hash mismatch: the line was changed after it was written"
	}
	if *rec.Prev != prev {
		if n == 1 {
			return "prev mismatch: the first line's prev is not 64 zeros (lines before it were removed?)"
		}
		return fmt.Sprintf("prev mismatch: prev is not the SHA-256 of line %d (a line was changed, removed, inserted or reordered)", n-1)
	}
	return ""
}
