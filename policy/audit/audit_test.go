package audit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/whmcs-mcp/whmcs-mcp/internal/logging"
)

func openTemp(t *testing.T) (*Log, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	l, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l, path
}

func appendN(t *testing.T, l *Log, n int) {
	t.Helper()
	for i := range n {
		_, err := l.Append(Record{
			Event:     EventPreview,
			Principal: "local",
			Tool:      "update_client_product",
			Arguments: map[string]any{"serviceid": i + 1, "status": "Suspended"},
			Outcome:   "confirmation_required",
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func readLines(t *testing.T, path string) [][]byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) == 0 || data[len(data)-1] != '\n' {
		t.Fatalf("log does not end with a newline: %q", data)
	}
	lines := bytes.SplitAfter(data, []byte("\n"))
	return lines[:len(lines)-1] // each with its newline
}

func verifyErr(t *testing.T, data []byte) *VerifyError {
	t.Helper()
	err := Verify(bytes.NewReader(data))
	var ve *VerifyError
	if !errors.As(err, &ve) {
		t.Fatalf("Verify = %v, want a *VerifyError", err)
	}
	return ve
}

func TestChainVerifiesAfterManyAppends(t *testing.T) {
	l, path := openTemp(t)
	appendN(t, l, 300)
	n, err := VerifyFile(path)
	if err != nil || n != 300 {
		t.Fatalf("VerifyFile = %d, %v; want 300, nil", n, err)
	}
	lines := readLines(t, path)
	var first Record
	if err := json.Unmarshal(lines[0], &first); err != nil {
		t.Fatal(err)
	}
	if first.Prev != strings.Repeat("0", 64) {
		t.Errorf("first prev = %q, want 64 zeros", first.Prev)
	}
	if first.Time.IsZero() || first.Time.Location() != time.UTC {
		t.Errorf("first time = %v, want now in UTC", first.Time)
	}
}

func TestEmptyLogVerifies(t *testing.T) {
	if err := Verify(strings.NewReader("")); err != nil {
		t.Fatal(err)
	}
	_, path := openTemp(t)
	if n, err := VerifyFile(path); n != 0 || err != nil {
		t.Fatalf("VerifyFile = %d, %v; want 0, nil", n, err)
	}
}

func TestAppendReturnsTheRecordAsWritten(t *testing.T) {
	l, path := openTemp(t)
	at := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	r1, err := l.Append(Record{Time: at, Event: EventIntent, Principal: "p", Tool: "upgrade_product", TokenID: "t1"})
	if err != nil {
		t.Fatal(err)
	}
	r2, err := l.Append(Record{Event: EventExecution, Principal: "p", Tool: "upgrade_product", TokenID: "t1", Outcome: "done"})
	if err != nil {
		t.Fatal(err)
	}
	lines := readLines(t, path)
	if !r1.Time.Equal(at) {
		t.Errorf("time = %v, want the one given, %v", r1.Time, at)
	}
	if r1.Prev != GenesisPrev || r2.Prev != lineHash(bytes.TrimSuffix(lines[0], []byte("\n"))) {
		t.Errorf("prev of records = %q, %q; want genesis and the hash of line 1", r1.Prev, r2.Prev)
	}
	var onDisk Record
	if err := json.Unmarshal(lines[1], &onDisk); err != nil {
		t.Fatal(err)
	}
	if onDisk.Hash != r2.Hash || onDisk.Prev != r2.Prev || onDisk.Outcome != "done" || !onDisk.Time.Equal(r2.Time) {
		t.Errorf("line 2 = %+v, Append returned %+v", onDisk, r2)
	}
}

func TestConcurrentAppendsKeepTheChain(t *testing.T) {
	l, path := openTemp(t)
	const goroutines, each = 50, 20
	var wg sync.WaitGroup
	prevs := make(chan string, goroutines*each)
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				r, err := l.Append(Record{Event: EventIntent, Principal: fmt.Sprintf("p%d", g), Tool: "update_client_addon", Arguments: map[string]any{"id": i}})
				if err != nil {
					t.Error(err)
					return
				}
				prevs <- r.Prev
			}
		})
	}
	wg.Wait()
	close(prevs)
	seen := map[string]bool{}
	for p := range prevs {
		if seen[p] {
			t.Fatalf("two records chained to the same prev %s", p)
		}
		seen[p] = true
	}
	n, err := VerifyFile(path)
	if err != nil || n != goroutines*each {
		t.Fatalf("VerifyFile = %d, %v; want %d, nil", n, err, goroutines*each)
	}
}

func TestReopenContinuesTheChain(t *testing.T) {
	l, path := openTemp(t)
	appendN(t, l, 3)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		l, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		if l.TornTail() != "" {
			t.Errorf("TornTail = %q on a clean log", l.TornTail())
		}
		appendN(t, l, 2)
		l.Close()
	}
	if n, err := VerifyFile(path); err != nil || n != 7 {
		t.Fatalf("VerifyFile = %d, %v; want 7, nil", n, err)
	}
}

func TestChangedByteIsDetectedOnItsLine(t *testing.T) {
	l, path := openTemp(t)
	appendN(t, l, 4)
	data, _ := os.ReadFile(path)
	lines := readLines(t, path)
	offset := 0
	for i, line := range lines {
		for j := range line { // every byte, the newline included
			for _, replace := range []func(byte) byte{
				func(b byte) byte { return b ^ 0x01 },
				func(b byte) byte {
					if b == '\n' {
						return ' '
					}
					return '\n'
				},
			} {
				changed := bytes.Clone(data)
				changed[offset+j] = replace(changed[offset+j])
				ve := verifyErr(t, changed)
				if ve.Line != i+1 {
					t.Fatalf("byte %d of line %d (%q -> %q): error on line %d (%s), want line %d",
						j, i+1, data[offset+j], changed[offset+j], ve.Line, ve.Reason, i+1)
				}
			}
		}
		offset += len(line)
	}
}

func TestEditedValueIsAHashMismatch(t *testing.T) {
	l, path := openTemp(t)
	appendN(t, l, 3)
	data, _ := os.ReadFile(path)
	changed := bytes.Replace(data, []byte(`"serviceid":3`), []byte(`"serviceid":9`), 1)
	ve := verifyErr(t, changed)
	if ve.Line != 3 || !strings.HasPrefix(ve.Reason, "hash mismatch") {
		t.Fatalf("got %v, want line 3: hash mismatch", ve)
	}
}

func TestDeletedLineIsDetected(t *testing.T) {
	l, path := openTemp(t)
	appendN(t, l, 5)
	lines := readLines(t, path)
	// Removing the last lines leaves a shorter valid chain: only an outside
	// record of the count or last hash shows that. Any other line is missed.
	for k := range len(lines) - 1 {
		kept := bytes.Join(append(append([][]byte{}, lines[:k]...), lines[k+1:]...), nil)
		ve := verifyErr(t, kept)
		if ve.Line != k+1 || !strings.HasPrefix(ve.Reason, "prev mismatch") {
			t.Errorf("without line %d: got %v, want line %d: prev mismatch", k+1, ve, k+1)
		}
	}
}

func TestSwappedLinesAreDetected(t *testing.T) {
	l, path := openTemp(t)
	appendN(t, l, 5)
	lines := readLines(t, path)
	for k := range len(lines) - 1 {
		swapped := append([][]byte{}, lines...)
		swapped[k], swapped[k+1] = swapped[k+1], swapped[k]
		ve := verifyErr(t, bytes.Join(swapped, nil))
		if ve.Line != k+1 || !strings.HasPrefix(ve.Reason, "prev mismatch") {
			t.Errorf("lines %d and %d swapped: got %v, want line %d: prev mismatch", k+1, k+2, ve, k+1)
		}
	}
}

func TestInsertedLineIsDetected(t *testing.T) {
	l, path := openTemp(t)
	appendN(t, l, 3)
	lines := readLines(t, path)
	// A well-formed record forged with a fresh hash, placed between 1 and 2.
	forged := Record{Time: time.Now().UTC(), Event: EventExecution, Principal: "x", Tool: "upgrade_product"}
	line, err := encode(&forged, lineHash(bytes.TrimSuffix(lines[0], []byte("\n"))))
	if err != nil {
		t.Fatal(err)
	}
	data := bytes.Join([][]byte{lines[0], line, lines[1], lines[2]}, nil)
	ve := verifyErr(t, data)
	if ve.Line != 3 || !strings.HasPrefix(ve.Reason, "prev mismatch") {
		t.Fatalf("got %v, want line 3: prev mismatch", ve)
	}
}

func TestNotJSONIsReported(t *testing.T) {
	l, path := openTemp(t)
	appendN(t, l, 2)
	data, _ := os.ReadFile(path)
	data = append(data, "not json\n"...)
	ve := verifyErr(t, data)
	if ve.Line != 3 || !strings.HasPrefix(ve.Reason, "not JSON") {
		t.Fatalf("got %v, want line 3: not JSON", ve)
	}
	ve = verifyErr(t, []byte(`{"a":1}`+"\n"))
	if ve.Line != 1 || !strings.HasPrefix(ve.Reason, "not an audit record") {
		t.Fatalf("got %v, want line 1: not an audit record", ve)
	}
}

func TestTornLastLine(t *testing.T) {
	for _, cut := range []int{1, 9, 40, -1} { // bytes of the torn line kept; -1: all but its newline
		t.Run(fmt.Sprint(cut), func(t *testing.T) {
			l, path := openTemp(t)
			appendN(t, l, 4)
			l.Close()
			data, _ := os.ReadFile(path)
			lines := readLines(t, path)
			last := lines[len(lines)-1]
			if cut < 0 {
				cut = len(last) - 1
			}
			clean := data[:len(data)-len(last)]
			torn := last[:cut]
			if err := os.WriteFile(path, append(bytes.Clone(clean), torn...), 0o600); err != nil {
				t.Fatal(err)
			}

			n, err := VerifyFile(path)
			var ve *VerifyError
			if !errors.As(err, &ve) || ve.Line != 4 || !strings.HasPrefix(ve.Reason, "torn") {
				t.Fatalf("VerifyFile = %v, want line 4: torn", err)
			}
			if n != 3 {
				t.Errorf("VerifyFile counted %d good records before the torn line, want 3", n)
			}

			l, err = Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			if l.TornTail() != string(torn) {
				t.Errorf("TornTail = %q, want %q", l.TornTail(), torn)
			}
			if now, _ := os.ReadFile(path); !bytes.Equal(now, clean) {
				t.Errorf("after Open the file is %q, want the complete lines only", now)
			}
			appendN(t, l, 1)
			if n, err := VerifyFile(path); err != nil || n != 4 {
				t.Fatalf("VerifyFile after Open and Append = %d, %v; want 4, nil", n, err)
			}
		})
	}
}

func TestOpenRefusesAFileThatIsNotAnAuditLog(t *testing.T) {
	for name, content := range map[string]string{
		"torn tail not a record": "some notes without a newline",
		"last line not a record": "hello\n",
		"no newline at all":      "PK\x03\x04 binary",
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "not-audit")
			if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			if l, err := Open(path); err == nil {
				l.Close()
				t.Fatal("Open succeeded")
			}
			if now, _ := os.ReadFile(path); string(now) != content {
				t.Errorf("Open changed the file to %q", now)
			}
		})
	}
}

func TestOpenCreatesTheFilePrivately(t *testing.T) {
	_, path := openTemp(t)
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && info.Mode().Perm() != 0o600 {
		t.Errorf("mode = %v, want 0600", info.Mode().Perm())
	}
}

func TestSecondWriterIsRefused(t *testing.T) {
	switch runtime.GOOS {
	case "linux", "darwin", "freebsd", "netbsd", "openbsd", "dragonfly":
	default:
		t.Skip("no flock here")
	}
	l, path := openTemp(t)
	if l2, err := Open(path); err == nil {
		l2.Close()
		t.Fatal("a second Open of the same log succeeded")
	}
	l.Close()
	l2, err := Open(path)
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	l2.Close()
}

type whmcsProduct struct {
	ID       int    `json:"id"`
	Domain   string `json:"domain"`
	Username string `json:"username"`
	Password string `json:"password"`
}

func TestNoSecretInTheFile(t *testing.T) {
	l, path := openTemp(t)
	secrets := []string{"svc-pass-1", "whmcs-decrypted-pw", "wmc1.token-value", "api-secret-9", "Bearer abc123", "typed-pw-2"}
	visible := []string{"visible-note", "example.com", "srvuser", "Suspended", logging.Redacted}
	args := map[string]any{
		"serviceid":          7,
		"status":             "Suspended",
		"notes":              "visible-note",
		"servicepassword":    "svc-pass-1",
		"confirmation_token": "wmc1.token-value",
		"headers":            map[string]any{"Authorization": "Bearer abc123", "X-Request": "ok"},
		"list":               []any{map[string]any{"secret": "api-secret-9"}},
	}
	reply := map[string]any{
		"result": "success",
		"products": map[string]any{"product": []any{
			map[string]any{"id": "7", "domain": "example.com", "username": "srvuser", "password": "whmcs-decrypted-pw"},
		}},
	}
	written, err := l.Append(Record{Event: EventExecution, Principal: "local", Tool: "update_client_product", Arguments: args, Reply: reply})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append(Record{Event: EventExecution, Principal: "local", Tool: "get_clients_products", Reply: &whmcsProduct{ID: 7, Domain: "example.com", Username: "srvuser", Password: "typed-pw-2"}}); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	for _, s := range secrets {
		if bytes.Contains(data, []byte(s)) {
			t.Errorf("secret %q is in the audit log", s)
		}
	}
	for _, s := range visible {
		if !bytes.Contains(data, []byte(s)) {
			t.Errorf("%q is missing from the audit log", s)
		}
	}
	if written.Arguments["servicepassword"] != logging.Redacted {
		t.Errorf("returned record has servicepassword %v", written.Arguments["servicepassword"])
	}
	if args["servicepassword"] != "svc-pass-1" {
		t.Errorf("Append changed the caller's arguments: %v", args["servicepassword"])
	}
	if n, err := VerifyFile(path); err != nil || n != 2 {
		t.Fatalf("VerifyFile = %d, %v", n, err)
	}
}

func TestNumbersKeepTheirExactValue(t *testing.T) {
	l, path := openTemp(t)
	if _, err := l.Append(Record{Event: EventIntent, Tool: "upgrade_product", Arguments: map[string]any{"serviceid": 12345678901234567, "amount": 19.99}}); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	if !bytes.Contains(data, []byte(`"serviceid":12345678901234567`)) || !bytes.Contains(data, []byte(`"amount":19.99`)) {
		t.Errorf("numbers changed: %s", data)
	}
}

func TestRedact(t *testing.T) {
	got, err := Redact(errors.New("Service ID Not Found"))
	if err != nil || got != "Service ID Not Found" {
		t.Errorf("Redact(error) = %v, %v; want its message", got, err)
	}
	got, err = Redact(map[string]any{"a": []any{map[string]any{"Password": "p", "pid": 3}}, "signing_key": "k", "accesskey": "a"})
	if err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(got)
	if want := `{"a":[{"Password":"[redacted]","pid":3}],"accesskey":"[redacted]","signing_key":"[redacted]"}`; string(out) != want {
		t.Errorf("Redact = %s, want %s", out, want)
	}
}

func TestTimesFollowTheChain(t *testing.T) {
	l, path := openTemp(t)
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() { appendN(t, l, 10) })
	}
	wg.Wait()
	var last time.Time
	for i, line := range readLines(t, path) {
		var r Record
		if err := json.Unmarshal(line, &r); err != nil {
			t.Fatal(err)
		}
		if r.Time.Before(last) {
			t.Fatalf("line %d has time %v, before the line above it (%v)", i+1, r.Time, last)
		}
		last = r.Time
	}
}

func TestDiscardRedactsAndChains(t *testing.T) {
	l := Discard()
	r1, err := l.Append(Record{Event: EventPreview, Arguments: map[string]any{"servicepassword": "x"}})
	if err != nil {
		t.Fatal(err)
	}
	r2, err := l.Append(Record{Event: EventPreview})
	if err != nil {
		t.Fatal(err)
	}
	if r1.Arguments["servicepassword"] != logging.Redacted {
		t.Errorf("servicepassword = %v", r1.Arguments["servicepassword"])
	}
	if r1.Prev != GenesisPrev || r2.Prev == GenesisPrev || r1.Time.IsZero() {
		t.Errorf("records not chained: %+v %+v", r1, r2)
	}
	if l.TornTail() != "" || l.Close() != nil {
		t.Error("Discard's TornTail or Close")
	}
}

func TestAppendAfterCloseFails(t *testing.T) {
	l, _ := openTemp(t)
	l.Close()
	if _, err := l.Append(Record{Event: EventPreview}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Append after Close = %v, want ErrClosed", err)
	}
	if err := l.Close(); err != nil {
		t.Fatalf("second Close = %v", err)
	}
}

func TestUnencodableRecordWritesNothing(t *testing.T) {
	l, path := openTemp(t)
	appendN(t, l, 1)
	if _, err := l.Append(Record{Event: EventExecution, Reply: map[string]any{"f": func() {}}}); err == nil {
		t.Fatal("Append of a function value succeeded")
	}
	appendN(t, l, 1)
	if n, err := VerifyFile(path); err != nil || n != 2 {
		t.Fatalf("VerifyFile = %d, %v; want 2, nil", n, err)
	}
}
