package ledgertest

import (
	"context"
	"testing"
	"time"

	"github.com/whmcs-mcp/whmcs-mcp/policy"
)

// RunSessions tests a session store through two handles, a and b, on the
// same store (as two replicas serving the approval pages would have).
func RunSessions(t *testing.T, a, b policy.SessionStore) {
	ctx := context.Background()
	k := key(t)
	if s, err := b.Session(ctx, k); s != nil || err != nil {
		t.Fatalf("Session before PutSession: %+v %v, want nothing", s, err)
	}
	want := &policy.ApproverSession{Approver: "alice", CSRF: "csrf-" + key(t), Expires: time.Now().Add(time.Hour).Truncate(time.Second)}
	if err := a.PutSession(ctx, k, want); err != nil {
		t.Fatal(err)
	}
	got, err := b.Session(ctx, k)
	if err != nil || got == nil || got.Approver != want.Approver || got.CSRF != want.CSRF || !got.Expires.Equal(want.Expires) {
		t.Fatalf("Session on the other handle: %+v %v, want %+v", got, err, want)
	}
	if err := b.DeleteSession(ctx, k); err != nil {
		t.Fatal(err)
	}
	if s, err := a.Session(ctx, k); s != nil || err != nil {
		t.Errorf("Session after DeleteSession: %+v %v, want nothing", s, err)
	}

	short := key(t)
	if err := a.PutSession(ctx, short, &policy.ApproverSession{Approver: "bob", CSRF: "x", Expires: time.Now().Add(300 * time.Millisecond)}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(600 * time.Millisecond)
	if s, err := b.Session(ctx, short); s != nil || err != nil {
		t.Errorf("an expired session: %+v %v, want nothing", s, err)
	}
}
