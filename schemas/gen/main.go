// Command gen writes the JSON Schemas of every tool into the schemas
// directory, and the tools table and the list tools' fields table into the
// README (run by `go generate ./...`).
//
// Schemas are reflected from the argument and result types of package tools
// with invopop/jsonschema, in the form MCP hosts accept: object root, every
// type inlined (no $ref or $defs), no $schema, additionalProperties false.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

func main() {
	dir := "."
	if len(os.Args) > 1 {
		dir = os.Args[1]
	}
	err := write(dir)
	if err == nil {
		err = writeReadme(filepath.Join(dir, "..", "README.md"))
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

// write replaces the schema files in dir with freshly generated ones.
func write(dir string) error {
	files, err := generate()
	if err != nil {
		return err
	}
	old, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return err
	}
	for _, f := range old {
		if _, keep := files[filepath.Base(f)]; !keep && strings.HasSuffix(f, ".json") {
			if err := os.Remove(f); err != nil {
				return err
			}
		}
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}
