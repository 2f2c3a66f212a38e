package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/server"
)

// The floors of an MCP call over stdio: what a ping costs through a pipe
// and back (cat), through mcp-go's message handling alone (a bare server
// read and answered on one goroutine), and through mcp-go's stdio transport
// (a bare server behind server.StdioServer, as whmcs-mcp serves). They split
// figure 3's added time into the transport's share and the rest.

// floorCommand is the hidden first argument that makes the bench binary a
// bare MCP server on stdio: bench stdio-floor loop|transport.
const floorCommand = "stdio-floor"

// serveFloor serves an MCP server with no tools on stdio.
func serveFloor(mode string) error {
	s := server.NewMCPServer("floor", "1", server.WithToolCapabilities(false))
	if mode == "transport" {
		return server.NewStdioServer(s).Listen(context.Background(), os.Stdin, os.Stdout)
	}
	in := bufio.NewReader(os.Stdin)
	out := bufio.NewWriter(os.Stdout)
	for {
		line, err := in.ReadBytes('\n')
		if err != nil {
			return nil
		}
		if resp := s.HandleMessage(context.Background(), json.RawMessage(line)); resp != nil {
			b, err := json.Marshal(resp)
			if err != nil {
				return err
			}
			out.Write(append(b, '\n'))
			out.Flush()
		}
	}
}

// Floor is one ping round trip figure.
type Floor struct {
	Through string  `json:"through"`
	Ping    Summary `json:"ping"`
}

// measureFloors pings n times through each floor. whmcs-mcp's own ping is
// measured with figure 3.
func measureFloors(n int) ([]Floor, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	floors := []struct {
		name string
		cmd  []string
		echo bool // cat answers with the request itself
	}{
		{"cat (a pipe there and back)", []string{"cat"}, true},
		{"mcp-go HandleMessage on one goroutine", []string{self, floorCommand, "loop"}, false},
		{"mcp-go StdioServer", []string{self, floorCommand, "transport"}, false},
	}
	var out []Floor
	for _, f := range floors {
		cmd := exec.Command(f.cmd[0], f.cmd[1:]...)
		s, err := spawnCmd(cmd)
		if err != nil {
			return nil, err
		}
		if !f.echo {
			if err := s.initialize(); err != nil {
				s.close()
				return nil, err
			}
		}
		var times []time.Duration
		for i := range n + n/10 {
			start := time.Now()
			line, err := s.send("ping", json.RawMessage(`{}`))
			elapsed := time.Since(start)
			if err != nil {
				s.close()
				return nil, err
			}
			if !f.echo && !strings.Contains(string(line), `"result"`) {
				s.close()
				return nil, fmt.Errorf("%s: ping: %s", f.name, line)
			}
			if i >= n/10 { // the first tenth warms up
				times = append(times, elapsed)
			}
		}
		s.close()
		out = append(out, Floor{Through: f.name, Ping: summarize(times)})
	}
	return out, nil
}
