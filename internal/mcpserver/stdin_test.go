package mcpserver

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/server"
)

func TestLimitLinesPassesLinesWithinTheBound(t *testing.T) {
	in := "a\n" + strings.Repeat("b", 9) + "\n\nno newline"
	var drops []int64
	out, err := io.ReadAll(LimitLines(strings.NewReader(in), 10, func(n int64) { drops = append(drops, n) }))
	if err != nil || string(out) != in || len(drops) != 0 {
		t.Errorf("got %q, %v, drops %v; want the input unchanged", out, err, drops)
	}
}

func TestLimitLinesDropsLongLines(t *testing.T) {
	long := strings.Repeat("x", 200_000) // longer than the bufio buffer too
	in := "ok\n" + long + "\n" + "12345678901\n" + "after\n" + long
	var drops []int64
	out, err := io.ReadAll(LimitLines(strings.NewReader(in), 11, func(n int64) { drops = append(drops, n) }))
	if err != nil {
		t.Fatal(err)
	}
	if want := "ok\n\n\nafter\n\n"; string(out) != want {
		t.Errorf("got %q, want %q", out, want)
	}
	if len(drops) != 3 || drops[0] != 200_001 || drops[1] != 12 || drops[2] != 200_000 {
		t.Errorf("drops %v, want [200001 12 200000]", drops)
	}
}

var xs = []byte(strings.Repeat("x", 64<<10))

// endless yields n bytes of 'x', then tail.
type endless struct {
	n    int64
	tail *strings.Reader
}

func (e *endless) Read(p []byte) (int, error) {
	if e.n <= 0 {
		return e.tail.Read(p)
	}
	k := copy(p[:min(int64(len(p)), e.n)], xs)
	e.n -= int64(k)
	return k, nil
}

// A 256 MB line streams through without being held: the limiter allocates
// a small fraction of it.
func TestLimitLinesDoesNotHoldAHugeLine(t *testing.T) {
	const huge = 256 << 20
	r := LimitLines(&endless{n: huge, tail: strings.NewReader("\n{}\n")}, MaxLineBytes, nil)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	out, err := io.ReadAll(r)
	runtime.ReadMemStats(&after)
	if err != nil || string(out) != "\n{}\n" {
		t.Fatalf("got %q, %v", out, err)
	}
	// Holding the line would take 256 MB at least; growing a buffer to the
	// bound takes a few times the bound.
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8*MaxLineBytes {
		t.Errorf("allocated %d bytes for a %d-byte line", alloc, huge)
	}
}

// Behind mcp-go's stdio server, a line over the bound gets a JSON-RPC parse
// error and the server goes on.
func TestLimitLinesInFrontOfTheStdioServer(t *testing.T) {
	srv, err := New(Options{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	in := `{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":"` + strings.Repeat("a", 10<<20) + `"}}` + "\n" +
		`{"jsonrpc":"2.0","id":2,"method":"ping"}` + "\n"
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- server.NewStdioServer(srv).Listen(context.Background(), LimitLines(strings.NewReader(in), MaxLineBytes, nil), pw)
		pw.Close()
	}()
	var got []string
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		var msg struct {
			ID    any `json:"id"`
			Error *struct {
				Code int `json:"code"`
			} `json:"error"`
		}
		if err := json.Unmarshal(sc.Bytes(), &msg); err != nil {
			t.Fatalf("stdout line is not JSON: %q", sc.Text())
		}
		switch {
		case msg.ID == nil && msg.Error != nil && msg.Error.Code == -32700:
			got = append(got, "parse error")
		case msg.ID == 2.0 && msg.Error == nil:
			got = append(got, "ping 2")
		default:
			got = append(got, sc.Text())
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, ", ") != "parse error, ping 2" && strings.Join(got, ", ") != "ping 2, parse error" {
		t.Errorf("replies: %q", got)
	}
}
