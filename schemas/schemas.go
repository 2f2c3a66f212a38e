// Package schemas holds the JSON Schemas of every tool's arguments and
// result, generated from the Go types in package tools by `go generate
// ./...` and embedded, so that no reflection happens at start-up.
package schemas

//go:generate go run ./gen

import (
	"embed"
	"encoding/json"
	"fmt"
)

//go:embed *.json
var files embed.FS

// Input returns the input schema of the named tool.
func Input(tool string) (json.RawMessage, error) { return read(tool + ".input.json") }

// Output returns the output schema of the named tool.
func Output(tool string) (json.RawMessage, error) { return read(tool + ".output.json") }

func read(name string) (json.RawMessage, error) {
	b, err := files.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("schema %s is missing: run go generate ./schemas", name)
	}
	return b, nil
}
