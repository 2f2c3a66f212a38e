package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/whmcs-mcp/whmcs-mcp/tools"
)

// The markers around the README's generated tools table.
const (
	tableBegin = "<!-- tools table: generated from tools.All by `go generate ./...`; do not edit -->\n"
	tableEnd   = "<!-- end of tools table -->\n"
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

// withToolsTable returns the README with its generated table replaced.
func withToolsTable(readme []byte) ([]byte, error) {
	start := bytes.Index(readme, []byte(tableBegin))
	end := bytes.Index(readme, []byte(tableEnd))
	if start < 0 || end < start {
		return nil, errors.New("README.md has no tools table markers (" + strings.TrimSpace(tableBegin) + " ... " + strings.TrimSpace(tableEnd) + ")")
	}
	var out bytes.Buffer
	out.Write(readme[:start+len(tableBegin)])
	out.WriteString(toolsTable())
	out.Write(readme[end:])
	return out.Bytes(), nil
}

// writeReadme rewrites the tools table of the README at path.
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
