package policy

// Benchmarks of confirmation tokens: signing one at preview, verifying and
// spending it at confirmation. Run with: go test -run '^$' -bench . ./policy

import (
	"context"
	"encoding/json"
	"strconv"
	"testing"
	"time"
)

func benchClaims(b *testing.B) *Claims {
	b.Helper()
	args, err := ArgsDigest(map[string]any{"serviceid": 3, "status": "Suspended"})
	if err != nil {
		b.Fatal(err)
	}
	return &Claims{Use: useConfirm, Tool: "update_client_product", Args: args, Principal: LocalPrincipal,
		State:   json.RawMessage(`{"status":"Active"}`),
		Expires: time.Now().Add(DefaultTokenTTL).Unix()}
}

func benchSigner(b *testing.B) *Signer {
	b.Helper()
	s, err := NewSigner([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		b.Fatal(err)
	}
	return s
}

func BenchmarkTokenSign(b *testing.B) {
	s, c := benchSigner(b), benchClaims(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Sign(c); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTokenVerify(b *testing.B) {
	s := benchSigner(b)
	token, err := s.Sign(benchClaims(b))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Verify(token); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTokenVerifyForged(b *testing.B) {
	s := benchSigner(b)
	token, err := s.Sign(benchClaims(b))
	if err != nil {
		b.Fatal(err)
	}
	forged := token[:len(token)-2] + "AA"
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Verify(forged); err == nil {
			b.Fatal("a forged token verified")
		}
	}
}

func BenchmarkArgsDigest(b *testing.B) {
	args := map[string]any{"serviceid": 3, "status": "Suspended", "nextduedate": "2026-12-01"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ArgsDigest(args); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkConsume is the single-use check of a confirmation, with 10,000
// unexpired tokens already spent.
func BenchmarkConsume(b *testing.B) {
	used := NewMemoryUsedTokens()
	exp := time.Now().Add(time.Hour)
	ctx := context.Background()
	for i := range 10000 {
		used.Consume(ctx, "spent-"+strconv.Itoa(i), exp)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		if ok, err := used.Consume(ctx, strconv.Itoa(i), exp); err != nil || !ok {
			b.Fatal("a fresh token was refused")
		}
	}
}
