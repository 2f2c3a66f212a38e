package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/whmcs-mcp/whmcs-mcp/tools"
)

// The markers around the README's generated tables.
const (
	tableBegin  = "<!-- tools table: generated from tools.All by `go generate ./...`; do not edit -->\n"
	tableEnd    = "<!-- end of tools table -->\n"
	fieldsBegin = "<!-- fields table: generated from tools.All by `go generate ./...`; do not edit -->\n"
	fieldsEnd   = "<!-- end of fields table -->\n"
)

// toolsTable is the README's table of tools, one row a tool of tools.All.
func toolsTable() string {
	var b strings.Builder
	b.WriteString("| tool | WHMCS action | kind |\n|---|---|---|\n")
	for _, t := range tools.All(nil) {
		kind := "read: "
		if t.Kind == tools.Write {
			kind = "write; "
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s%s |\n", t.Name, t.Action, kind, t.Summary)
	}
	return b.String()
}

// fieldsTable is the README's table of the list tools' default fields, one
// row a tool of tools.All that declares Fields.
func fieldsTable() string {
	code := func(names []string) string {
		q := make([]string, len(names))
		for i, n := range names {
			q[i] = "`" + n + "`"
		}
		return strings.Join(q, ", ")
	}
	var b strings.Builder
	b.WriteString("| tool | fields by default | every field by default with |\n|---|---|---|\n")
	for _, t := range tools.All(nil) {
		if t.Fields != nil {
			whole := code(t.Fields.Whole)
			if whole == "" {
				whole = "none"
			}
			fmt.Fprintf(&b, "| `%s` | %s | %s |\n", t.Name, code(t.Fields.Default), whole)
		}
	}
	return b.String()
}

// withToolsTable returns the README with its generated tables replaced.
func withToolsTable(readme []byte) ([]byte, error) {
	for _, table := range []struct {
		begin, end string
		body       func() string
	}{{tableBegin, tableEnd, toolsTable}, {fieldsBegin, fieldsEnd, fieldsTable}} {
		start := bytes.Index(readme, []byte(table.begin))
		end := bytes.Index(readme, []byte(table.end))
		if start < 0 || end < start {
			return nil, errors.New("README.md has no table markers (" + strings.TrimSpace(table.begin) + " ... " + strings.TrimSpace(table.end) + ")")
		}
		var out bytes.Buffer
		out.Write(readme[:start+len(table.begin)])
		out.WriteString(table.body())
		out.Write(readme[end:])
		readme = out.Bytes()
	}
	return readme, nil
}

// writeReadme rewrites the generated tables of the README at path.
func writeReadme(path string) error {
	readme, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	updated, err := withToolsTable(readme)
	if err != nil {
		return err
	}
	if bytes.Equal(updated, readme) {
		return nil
	}
	return os.WriteFile(path, updated, 0o644)
}
