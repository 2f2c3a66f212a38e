package main

import (
	"bytes"
	"strings"
	"syscall"
	"testing"

	"github.com/whmcs-mcp/whmcs-mcp/whmcs/sandbox"
)

// A 256 MB line is answered with a parse error without the server ever
// holding it: its peak memory stays far below the line's size (without a
// bound, mcp-go's ReadString takes it to about 1.2 GB).
func TestHugeLineDoesNotGrowMemory(t *testing.T) {
	_, url := serveSandbox(t, sandbox.Options{})
	s := startRaw(t, url, nil)
	chunk := bytes.Repeat([]byte("x"), 1<<20)
	for range 256 {
		if _, err := s.stdin.Write(chunk); err != nil {
			t.Fatal(err)
		}
	}
	s.send(nil) // the newline
	s.send([]byte(`{"jsonrpc":"2.0","id":"after","method":"ping"}`))
	after, lines := s.until(`"after"`)
	if !bytes.Contains(after, []byte(`"result":{}`)) {
		t.Errorf("ping after the huge line: %s", after)
	}
	var parseError bool
	for _, l := range lines {
		parseError = parseError || strings.Contains(string(l), `"id":null,"error":{"code":-32700`)
	}
	if !parseError {
		t.Errorf("no parse error for the huge line: %q", lines)
	}
	s.stdin.Close()
	for range s.lines {
	}
	if err := s.cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	if rss := s.cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss; rss > 128<<10 { // KiB
		t.Errorf("peak RSS %d MiB for a 256 MiB line: the line was held in memory", rss>>10)
	}
}
