package main

import (
	"context"

	"github.com/whmcs-mcp/whmcs-mcp/internal/fixture"
	"github.com/whmcs-mcp/whmcs-mcp/whmcs/sandbox"
)

// fixtureClient owns the services added for figure 6.
const fixtureClient = fixture.Client

// makeFixture creates a sandbox database at path: the demo data plus client
// 5 with n services (internal/fixture, which the tests of figure 6's page
// share). Only figure 6 uses it, through a second sandbox process started
// with --db path.
func makeFixture(path string, n int) error {
	sb, err := sandbox.Open(sandbox.Options{DBPath: path, Now: sandbox.FixedClock(fixture.Now)})
	if err != nil {
		return err
	}
	defer sb.Close()
	return fixture.Services(context.Background(), sb, n)
}
