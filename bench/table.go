package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
)

// printTable writes the figures as a table, budgets last.
func printTable(w io.Writer, r *Report) {
	m := r.Machine
	fmt.Fprintf(w, "\nwhmcs-mcp %s on %d x %s, %s, %s; load average %.2f before, %.2f after\n\n",
		r.Commit, m.CPUs, m.CPU, m.Go, m.OS, m.LoadBefore, m.LoadAfter)
	t := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(cells ...any) {
		for i, c := range cells {
			if i > 0 {
				fmt.Fprint(t, "\t")
			}
			fmt.Fprint(t, c)
		}
		fmt.Fprintln(t)
	}
	lat := func(s Summary) string {
		return fmt.Sprintf("median %s  p99 %s", us(s.Median), us(s.P99))
	}
	row("figure", "measured")
	has := func(n int) bool { return slices.Contains(r.Figures, n) }
	if has(1) {
		row("1 stdio cold start, spawn -> initialize", fmt.Sprintf("median %.2f ms  min %.2f  p90 %.2f  max %.2f  (%d runs)",
			r.ColdStart.MedianMS, r.ColdStart.MinMS, r.ColdStart.P90MS, r.ColdStart.MaxMS, r.ColdStart.Runs))
		var top []string
		for _, c := range r.ColdStart.Inits {
			top = append(top, fmt.Sprintf("%s %.2f", c.Package, c.MS))
		}
		row("1   of which package init (GODEBUG=inittrace)", fmt.Sprintf("median %.2f ms; most: %s", r.ColdStart.InitMS, strings.Join(top, ", ")))
	}
	if has(2) || has(3) {
		if r.Memory.Unavailable != "" {
			row("2 memory", "not measured: "+r.Memory.Unavailable)
		} else {
			row("2 peak RSS after initialize", fmt.Sprintf("%.1f MB", r.Memory.PeakAfterInitializeMB))
			row(fmt.Sprintf("2 peak RSS after %d calls", r.Memory.Calls), fmt.Sprintf("%.1f MB (now %.1f MB): growth %.1f MB",
				r.Memory.PeakAfterCallsMB, r.Memory.RSSAfterCallsMB, r.Memory.GrowthMB))
		}
		row("3 get_clients_products "+r.PerCall.Arguments+" over MCP stdio", lat(r.PerCall.MCP))
		row("3 the same request straight to the sandbox", lat(r.PerCall.Direct))
		row("3 MCP ping over the same pipes", lat(r.PerCall.Ping))
		for _, f := range r.PerCall.Floors {
			row("3   ping through "+f.Through, lat(f.Ping))
		}
		row("3 CPU per call: server, sandbox", fmt.Sprintf("%s, %s", us(r.PerCall.ServerCPUUS), us(r.PerCall.SandboxCPUUS)))
		row("3 MCP / direct, MCP - direct", fmt.Sprintf("median %.2f x, +%s  (p99 +%s)", r.PerCall.Ratio, us(r.PerCall.AddedUS), us(r.PerCall.AddedP99US)))
	}
	for _, h := range r.HTTP {
		if !h.Measured {
			row("4 streamable HTTP", "not measured: "+h.Reason)
			continue
		}
		row(fmt.Sprintf("4 streamable HTTP, %d sessions, %s, %s WHMCS", h.Sessions, h.Duration, h.Backend),
			fmt.Sprintf("%.0f calls/s  median %s  p99 %s  (%d calls, %d errors; CPU per call: server %s, WHMCS %s, load generator %s)",
				h.CallsPerSecond, us(h.Latency.Median), us(h.Latency.P99), h.Calls, h.Errors,
				us(h.ServerCPUUS), us(h.BackendCPUUS), us(h.LoadCPUUS)))
	}
	for _, g := range r.Guarded {
		audit := "no audit log"
		if g.AuditLog {
			audit = "audit log, fsync"
		}
		row(fmt.Sprintf("5 guarded preview+confirm (%s)", audit), fmt.Sprintf("%s  (preview %s, confirm %s)",
			lat(g.RoundTrip), us(g.Preview.Median), us(g.Confirm.Median)))
	}
	for _, t := range r.HTTPRoundTrips {
		name := fmt.Sprintf("7 guarded preview+confirm over streamable HTTP, %s WHMCS, %s", t.Backend, t.Setup)
		if !t.Measured {
			row(name, "not measured: "+t.Reason)
			continue
		}
		cell := fmt.Sprintf("%s  (preview %s, confirm %s); %.0f round trips/s one at a time", lat(t.RoundTrip), us(t.Preview.Median), us(t.Confirm.Median), t.PerSecond)
		if t.State == "redis" {
			cell += fmt.Sprintf("; Redis per round trip: %.1f requests, %.1f commands", t.RedisRequests, t.RedisCommands)
		}
		row(name, cell)
	}
	if r.RedisPing != nil {
		row("7 Redis PING from the bench, one at a time", lat(*r.RedisPing))
	}
	for _, l := range r.Replicas {
		what := "reads"
		if l.Workload == "guarded" {
			what = "guarded round trips"
		}
		name := fmt.Sprintf("8 streamable HTTP %s, %s WHMCS, %s", what, l.Backend, l.Setup)
		if !l.Measured {
			row(name, "not measured: "+l.Reason)
			continue
		}
		unit := "calls/s"
		if l.Workload == "guarded" {
			unit = fmt.Sprintf("round trips/s (%.0f calls/s)", l.CallsPerSecond)
		}
		cpu := fmt.Sprintf("server %s, WHMCS %s, load generator %s", us(l.ServerCPUUS), us(l.BackendCPUUS), us(l.LoadCPUUS))
		if l.State == "redis" {
			cpu += fmt.Sprintf(", Redis %s; Redis: %.1f requests, %.1f commands each", us(l.RedisCPUUS), l.RedisRequests, l.RedisCommands)
		}
		row(name, fmt.Sprintf("%.0f %s  median %s  p99 %s  (%d sessions, %s, %d errors; CPU each: %s)",
			l.PerSecond, unit, us(l.Latency.Median), us(l.Latency.P99), l.Sessions, l.Duration, l.Errors, cpu))
	}
	if has(6) {
		row("6 tools/list result, all tools", fmt.Sprintf("%d bytes", r.Bytes.ToolsList))
	}
	for _, p := range r.Bytes.Pages {
		row(fmt.Sprintf("6 get_clients_products, %d services", p.Services),
			fmt.Sprintf("%d bytes by default, %d with every field, vs WHMCS's %d (%.2f x, %.2f x); whole tool result %d, %d",
				p.Result, p.ResultAll, p.WHMCSReply, p.Ratio, p.RatioAll, p.ToolResult, p.ToolResultAll))
	}
	if f := r.StubRead; f != nil {
		row(fmt.Sprintf("9 get_clients_products %s over MCP stdio, stub WHMCS (%d-byte reply)", f.Arguments, f.ReplyBytes), lat(f.MCP))
		row("9 the same with every field (fields [\"*\"])", lat(f.MCPAll))
		row("9 the same request straight to the stub", lat(f.Direct))
		row("9 MCP / direct, MCP - direct", fmt.Sprintf("median %.2f x (every field %.2f x), +%s; CPU per call: server %s, stub %s",
			f.Ratio, f.RatioAll, us(f.AddedUS), us(f.ServerCPUUS), us(f.StubCPUUS)))
	}
	t.Flush()

	fmt.Fprintln(w)
	t = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row("budget", "value", "limit", "")
	for _, b := range r.Budgets {
		verdict, value := "not measured", "-"
		if b.Met != nil {
			value = fmt.Sprintf("%g %s", b.Value, b.Unit)
			verdict = "met"
			if !*b.Met {
				verdict = "MISSED"
			}
		}
		row(b.Figure, value, b.Limit, verdict)
	}
	t.Flush()
}

// us formats microseconds, switching to milliseconds above 10 ms.
func us(v float64) string {
	if v >= 10000 {
		return fmt.Sprintf("%.1f ms", v/1000)
	}
	return fmt.Sprintf("%.0f us", v)
}
