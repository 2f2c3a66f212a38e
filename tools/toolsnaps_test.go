package tools

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// TestToolSnapshots compares every tool definition (name, description,
// annotations, schemas), as tools/list sends it, with its snapshot in
// __toolsnaps__. After an intended change run go generate ./... (which runs
// this test with UPDATE_TOOLSNAPS=1) and review the diff.
func TestToolSnapshots(t *testing.T) {
	update := os.Getenv("UPDATE_TOOLSNAPS") == "1"
	seen := map[string]bool{}
	for _, tool := range All(nil) {
		def, err := tool.Definition()
		if err != nil {
			t.Fatal(err)
		}
		raw, err := json.Marshal(def)
		if err != nil {
			t.Fatalf("%s: %v", tool.Name, err)
		}
		var pretty bytes.Buffer
		if err := json.Indent(&pretty, raw, "", "  "); err != nil {
			t.Fatal(err)
		}
		pretty.WriteByte('\n')
		path := filepath.Join("__toolsnaps__", tool.Name+".snap")
		seen[filepath.Base(path)] = true
		if update {
			if err := os.MkdirAll("__toolsnaps__", 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, pretty.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Errorf("%s: no snapshot; run go generate ./... and commit the result", tool.Name)
			continue
		}
		if !bytes.Equal(want, pretty.Bytes()) {
			t.Errorf("%s: definition differs from %s; if intended, run go generate ./... and commit the result\ngot:\n%s", tool.Name, path, pretty.String())
		}
	}
	files, _ := filepath.Glob(filepath.Join("__toolsnaps__", "*.snap"))
	for _, f := range files {
		if !seen[filepath.Base(f)] {
			t.Errorf("%s belongs to no tool: run go generate ./... and commit the result", f)
		}
	}
}

// TestAnnotations checks the hints the spec asks for.
func TestAnnotations(t *testing.T) {
	for _, tool := range All(nil) {
		def, err := tool.Definition()
		if err != nil {
			t.Fatal(err)
		}
		a := def.Annotations
		if a.ReadOnlyHint == nil || a.DestructiveHint == nil || a.IdempotentHint == nil || a.OpenWorldHint == nil {
			t.Errorf("%s: every hint must be set explicitly: %+v", tool.Name, a)
			continue
		}
		switch {
		case tool.Kind == Read:
			if !*a.ReadOnlyHint || *a.DestructiveHint {
				t.Errorf("%s: a read must be readOnly and not destructive", tool.Name)
			}
		case tool.Name == "upgrade_product":
			if *a.ReadOnlyHint || !*a.DestructiveHint || *a.IdempotentHint {
				t.Errorf("%s: want readOnly false, destructive true, idempotent false", tool.Name)
			}
		case tool.Name == "update_client_product", tool.Name == "update_client_addon":
			if *a.ReadOnlyHint || !*a.DestructiveHint {
				t.Errorf("%s: a write that can change status must be destructive", tool.Name)
			}
		default:
			t.Errorf("unexpected write %s: say here which hints it must have", tool.Name)
		}
	}
}
