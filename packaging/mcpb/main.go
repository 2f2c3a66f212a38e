// Command mcpb builds the Claude Desktop extension of whmcs-mcp: an MCP
// Bundle (.mcpb, a zip with manifest.json) holding the server for macOS
// (arm64, amd64), Windows (amd64) and Linux (amd64, arm64), cross-compiled
// (pure Go), that asks the user for the WHMCS URL and API credentials (the
// secret marked sensitive, so the host keeps it in the OS keychain).
//
//	go run ./packaging/mcpb                  # dist/whmcs-mcp-VERSION.mcpb
//	go run ./packaging/mcpb -verify          # and check it, as CI does
//
// The official packer (npm @anthropic-ai/mcpb, run with npx) validates the
// manifest and packs the bundle, so Node.js and npm are needed. With
// -verify the bundle is unpacked again and the Linux server it holds is
// started through the manifest's own command and arguments, and must answer
// tools/list with every tool.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/whmcs-mcp/whmcs-mcp/tools"
)

// mcpbPackage is the official packer, pinned.
const mcpbPackage = "@anthropic-ai/mcpb@2.1.2"

// target is one platform the bundle carries a server for.
type target struct{ goos, goarch string }

// targets are the platforms of the bundle.
var targets = []target{{"darwin", "arm64"}, {"darwin", "amd64"}, {"windows", "amd64"}, {"linux", "amd64"}, {"linux", "arm64"}}

// launcher starts the server built for the machine it runs on (macOS and
// Linux; Windows runs its .exe directly).
const launcher = `#!/bin/sh
# Starts the whmcs-mcp server built for this machine.
dir=$(dirname "$0")
case "$(uname -s)-$(uname -m)" in
  Darwin-arm64) exec "$dir/darwin-arm64/whmcs-mcp" "$@" ;;
  Darwin-x86_64) exec "$dir/darwin-amd64/whmcs-mcp" "$@" ;;
  Linux-x86_64) exec "$dir/linux-amd64/whmcs-mcp" "$@" ;;
  Linux-aarch64|Linux-arm64) exec "$dir/linux-arm64/whmcs-mcp" "$@" ;;
esac
echo "whmcs-mcp: this bundle has no server for $(uname -s) $(uname -m)" >&2
exit 1
`

func main() {
	version := flag.String("version", "", "version to stamp (default: git describe, else 0.0.0-dev)")
	out := flag.String("out", "dist", "directory to write the bundle into")
	verify := flag.Bool("verify", false, "after packing, unpack the bundle and start its Linux server through the manifest")
	flag.Parse()
	if *version == "" {
		*version = gitVersion()
	}
	bundle, err := build(*version, *out)
	if err == nil && *verify {
		err = verifyBundle(bundle)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "mcpb:", err)
		os.Exit(1)
	}
}

// gitVersion is the version of the newest tag git describes, without a
// leading v; 0.0.0-dev before the first tag.
func gitVersion() string {
	out, err := exec.Command("git", "describe", "--tags", "--dirty").Output()
	v := strings.TrimPrefix(strings.TrimSpace(string(out)), "v")
	if err != nil || v == "" || !strings.ContainsAny(v[:1], "0123456789") {
		return "0.0.0-dev"
	}
	return v
}

// build stages the servers and the manifest under out/mcpb, validates the
// manifest and packs out/whmcs-mcp-VERSION.mcpb with the official packer.
func build(version, out string) (string, error) {
	stage := filepath.Join(out, "mcpb")
	if err := os.RemoveAll(stage); err != nil {
		return "", err
	}
	for _, t := range targets {
		name := "whmcs-mcp"
		if t.goos == "windows" {
			name += ".exe"
		}
		dst := filepath.Join(stage, "server", t.goos+"-"+t.goarch, name)
		fmt.Fprintf(os.Stderr, "building %s/%s\n", t.goos, t.goarch)
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w -X main.version="+version, "-o", dst, ".")
		cmd.Env = append(os.Environ(), "GOOS="+t.goos, "GOARCH="+t.goarch, "CGO_ENABLED=0")
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return "", fmt.Errorf("building for %s/%s: %w", t.goos, t.goarch, err)
		}
	}
	if err := os.WriteFile(filepath.Join(stage, "server", "whmcs-mcp.sh"), []byte(launcher), 0o755); err != nil {
		return "", err
	}
	manifest, err := json.MarshalIndent(newManifest(version), "", "  ")
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(stage, "manifest.json"), append(manifest, '\n'), 0o644); err != nil {
		return "", err
	}
	if err := npx("validate", filepath.Join(stage, "manifest.json")); err != nil {
		return "", err
	}
	bundle := filepath.Join(out, "whmcs-mcp-"+version+".mcpb")
	if err := npx("pack", stage, bundle); err != nil {
		return "", err
	}
	fmt.Fprintln(os.Stderr, "wrote", bundle)
	return bundle, nil
}

// npx runs the official packer.
func npx(args ...string) error {
	cmd := exec.Command("npx", append([]string{"--yes", mcpbPackage}, args...)...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("npx %s %s: %w (Node.js and npm are needed)", mcpbPackage, strings.Join(args, " "), err)
	}
	return nil
}

// verifyBundle unpacks the bundle and starts its server the way a host on
// this machine would, from the manifest's command, arguments and env, and
// checks that it answers tools/list with every tool.
func verifyBundle(bundle string) error {
	if runtime.GOOS != "linux" && runtime.GOOS != "darwin" {
		return errors.New("-verify runs on Linux or macOS")
	}
	dir, err := os.MkdirTemp("", "whmcs-mcp-bundle")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := npx("unpack", bundle, dir); err != nil {
		return err
	}
	raw, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		return err
	}
	var m manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return fmt.Errorf("manifest.json: %w", err)
	}
	// What a host fills in: the bundle's directory and the user's answers
	// (a WHMCS that tools/list never calls).
	answers := map[string]string{"whmcs_url": "http://127.0.0.1:9", "whmcs_identifier": "id", "whmcs_secret": "secret"}
	expand := func(s string) string {
		s = strings.ReplaceAll(s, "${__dirname}", dir)
		for k := range m.UserConfig {
			s = strings.ReplaceAll(s, "${user_config."+k+"}", answers[k])
		}
		return s
	}
	cfg := m.Server.MCPConfig
	var args []string
	for _, a := range cfg.Args {
		args = append(args, expand(a))
	}
	cmd := exec.Command(expand(cfg.Command), args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "NO_COLOR=1"}
	for k, v := range cfg.Env {
		cmd.Env = append(cmd.Env, k+"="+expand(v))
	}
	cmd.Stdin = strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"mcpb-verify","version":"1"}}}` + "\n" +
		`{"jsonrpc":"2.0","method":"notifications/initialized"}` + "\n" +
		`{"jsonrpc":"2.0","id":2,"method":"tools/list"}` + "\n")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", cmd.Path, err)
	}
	done := make(chan error, 1)
	go func() { done <- readToolsList(stdout) }()
	select {
	case err = <-done:
	case <-time.After(30 * time.Second):
		err = errors.New("no answer to tools/list within 30 s")
	}
	cmd.Process.Kill()
	cmd.Wait()
	if err != nil {
		return fmt.Errorf("the bundle's server: %w\nstderr:\n%s", err, stderr.String())
	}
	fmt.Fprintln(os.Stderr, "verified: the bundle's server answers tools/list with every tool")
	return nil
}

// readToolsList reads the server's answers until the tools/list one, and
// checks that it lists every tool.
func readToolsList(r io.Reader) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var msg struct {
			ID     json.RawMessage `json:"id"`
			Result struct {
				Tools []struct {
					Name string `json:"name"`
				} `json:"tools"`
			} `json:"result"`
		}
		if json.Unmarshal(sc.Bytes(), &msg) != nil || string(msg.ID) != "2" {
			continue
		}
		var listed []string
		for _, t := range msg.Result.Tools {
			listed = append(listed, t.Name)
		}
		for _, t := range tools.All(nil) {
			if !slices.Contains(listed, t.Name) {
				return fmt.Errorf("tools/list lacks %s: %v", t.Name, listed)
			}
		}
		return nil
	}
	return fmt.Errorf("the server ended without answering tools/list: %v", sc.Err())
}
