package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSchemasAreFresh fails when a checked-in schema differs from what the
// Go types generate now: run `go generate ./schemas` and commit the result.
func TestSchemasAreFresh(t *testing.T) {
	files, err := generate()
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join("..", name))
		if err != nil {
			t.Errorf("%s is missing: run go generate ./... and commit the result", name)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale: run go generate ./... and commit the result", name)
		}
	}
	onDisk, _ := filepath.Glob(filepath.Join("..", "*.json"))
	for _, f := range onDisk {
		if _, ok := files[filepath.Base(f)]; !ok {
			t.Errorf("%s belongs to no tool: run go generate ./... and commit the result", filepath.Base(f))
		}
	}
}

// TestReadmeToolsTableIsFresh fails when the README's tools table or fields
// table is not what tools.All says.
func TestReadmeToolsTableIsFresh(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := withToolsTable(readme)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(readme, want) {
		t.Errorf("README.md's tools or fields table is stale: run go generate ./... and commit the result")
	}
}

// TestSchemasFollowTheSpec checks the form MCP hosts accept: an object root,
// no $schema, $ref or $defs, and on inputs additionalProperties false and a
// description on every property, at every depth.
func TestSchemasFollowTheSpec(t *testing.T) {
	files, err := generate()
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range files {
		var root map[string]any
		if err := json.Unmarshal(data, &root); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if root["type"] != "object" {
			t.Errorf("%s: root type is %v, want object", name, root["type"])
		}
		input := strings.HasSuffix(name, ".input.json")
		if input && root["additionalProperties"] != false {
			t.Errorf("%s: root additionalProperties is %v, want false", name, root["additionalProperties"])
		}
		walkSchema(root, "", func(path string, s map[string]any) {
			for _, banned := range []string{"$schema", "$ref", "$defs", "$id"} {
				if _, ok := s[banned]; ok {
					t.Errorf("%s%s has %s", name, path, banned)
				}
			}
			props, _ := s["properties"].(map[string]any)
			for prop, v := range props {
				p, _ := v.(map[string]any)
				if input && p["description"] == nil {
					t.Errorf("%s%s.%s has no description", name, path, prop)
				}
			}
		})
	}
}

// walkSchema calls fn on s and every schema nested in it.
func walkSchema(s map[string]any, path string, fn func(string, map[string]any)) {
	fn(path, s)
	if props, ok := s["properties"].(map[string]any); ok {
		for name, v := range props {
			if p, ok := v.(map[string]any); ok {
				walkSchema(p, path+"."+name, fn)
			}
		}
	}
	for _, key := range []string{"items", "additionalProperties", "propertyNames"} {
		if p, ok := s[key].(map[string]any); ok {
			walkSchema(p, path+"["+key+"]", fn)
		}
	}
	if alts, ok := s["anyOf"].([]any); ok {
		for i, v := range alts {
			if p, ok := v.(map[string]any); ok {
				walkSchema(p, fmt.Sprintf("%s|%d", path, i), fn)
			}
		}
	}
}
