package policy

import (
	"encoding/base64"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// fuzzKey signs the tokens of FuzzVerify's seeds (testdata/fuzz/FuzzVerify).
var fuzzKey = []byte("fuzz-key-fuzz-key-fuzz-key-fuzz-key!")

// FuzzVerify feeds arbitrary strings to token verification. It must never
// panic, must fail only with ErrTokenMalformed or ErrTokenForged, and must
// accept a token only in the exact form Sign writes it: an accepted token
// re-encodes to itself, so that no two strings are the same token.
func FuzzVerify(f *testing.F) {
	s, err := NewSigner(fuzzKey)
	if err != nil {
		f.Fatal(err)
	}
	for _, c := range []*Claims{
		{Use: useConfirm, Tool: "update_client_product", Args: strings.Repeat("ab", 32), Principal: LocalPrincipal, State: []byte(`{"status":"Active"}`), Expires: 1795000000},
		{Use: useElicit, Tool: "upgrade_product", Args: strings.Repeat("0f", 32), Principal: "ops", Expires: 1},
	} {
		token, err := s.Sign(c)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(token)
	}
	for _, bad := range []string{"", "wmc1.", "wmc1..", "wmc1.e30.", "wmc1.e30.AAAA", "wmc2.x.y", "wmc1.!!!.###", strings.Repeat("wmc1.", 2000)} {
		f.Add(bad)
	}
	f.Fuzz(func(t *testing.T, token string) {
		claims, err := s.Verify(token)
		if err != nil {
			if !errors.Is(err, ErrTokenMalformed) && !errors.Is(err, ErrTokenForged) {
				t.Fatalf("Verify(%q): unexpected error %v", token, err)
			}
			return
		}
		if claims == nil || claims.ID == "" {
			t.Fatalf("Verify(%q) accepted claims without an id: %+v", token, claims)
		}
		dot := strings.LastIndexByte(token, '.')
		signed := token[:dot]
		canonical := signed + "." + base64.RawURLEncoding.EncodeToString(s.mac(signed))
		if token != canonical {
			t.Fatalf("Verify accepted %q, which is not the token as signed (%q)", token, canonical)
		}
	})
}

// FuzzParse feeds arbitrary bytes to the policy file parser. It must never
// panic; an error must name the source; and a file it accepts must be valid
// (every value one the server knows) and read back the same once written out
// again as YAML.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"", "# only a comment\n", "mode: read-only\n", "confirmation: token\ntoken_ttl: 90s\n",
		"tools: [get_clients_products, update_client_product]\nguarded_fields: [pid, billingcycle]\nallowed_statuses: [Active, Suspended]\nmax_upgrade_price: 25.5\nclients: [1, 2]\n",
		"principals:\n  - name: support-bot\n    token_sha256: " + strings.Repeat("a1", 32) + "\n    mode: read-only\n    clients: [2]\n    tools: [get_clients_products]\n",
		"confirmaton: token\n", "mode: [read-only]\n", "token_ttl: 5\n", "max_upgrade_price: .nan\n", "clients: [0]\n",
		"a: &a [1]\nb: *a\n", "mode: read-only\n---\nmode: read-write\n", "tools: !!str 1\n", "{", "- 1\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse(data, "fuzz.yaml")
		if err != nil {
			for _, line := range strings.Split(err.Error(), "\n") {
				if !strings.HasPrefix(line, "fuzz.yaml: ") {
					t.Fatalf("Parse(%q): error line %q does not name the file", data, line)
				}
			}
			return
		}
		if err := valid(file); err != nil {
			t.Fatalf("Parse(%q) accepted an invalid policy: %v\n%+v", data, err, file)
		}
		out, err := yaml.Marshal(file)
		if err != nil {
			t.Fatalf("Parse(%q): the policy does not encode: %v", data, err)
		}
		again, err := Parse(out, "again.yaml")
		if err != nil {
			t.Fatalf("Parse(%q) accepted it, but not its own encoding:\n%s\n%v", data, out, err)
		}
		if !reflect.DeepEqual(file, again) {
			t.Fatalf("Parse(%q) and its encoding differ:\n%s\n%+v\n%+v", data, out, file, again)
		}
	})
}

// valid checks the invariants of a parsed policy.
func valid(f *File) error {
	in := func(v string, set []string) bool {
		for _, s := range set {
			if s == v {
				return true
			}
		}
		return false
	}
	all := func(vs, set []string) bool {
		for _, v := range vs {
			if !in(v, set) {
				return false
			}
		}
		return true
	}
	switch {
	case !in(f.Mode, ModeValues), !in(f.Confirmation, ConfirmationValues):
		return errors.New("mode or confirmation")
	case time.Duration(f.TokenTTL) <= 0 || time.Duration(f.TokenTTL) > MaxTokenTTL:
		return errors.New("token_ttl")
	case !all(f.Tools, ToolNames), !all(f.GuardedFields, GuardableFields), !all(f.AllowedStatuses, StatusValues):
		return errors.New("a list of names")
	case f.MaxUpgradePrice != nil && !(*f.MaxUpgradePrice >= 0):
		return errors.New("max_upgrade_price")
	}
	for _, id := range f.Clients {
		if id <= 0 {
			return errors.New("clients")
		}
	}
	for _, p := range f.Principals {
		if strings.TrimSpace(p.Name) == "" || !isLowerHexSHA256(p.TokenSHA256) || !in(p.Mode, ModeValues) || !all(p.Tools, ToolNames) {
			return errors.New("a principal")
		}
		for _, id := range p.Clients {
			if id <= 0 {
				return errors.New("a principal's clients")
			}
		}
	}
	return nil
}

// A few kilobytes of nested aliases ("billion laughs") must not expand to
// millions of values: a 27 KB file made the parser allocate 2.8 GB.
func TestParseRefusesAnAliasBomb(t *testing.T) {
	const n = 3000
	var b strings.Builder
	b.WriteString("clients: &c [1" + strings.Repeat(",1", n-1) + "]\nprincipals:\n")
	b.WriteString("  - &p {name: a, token_sha256: " + strings.Repeat("a", 64) + ", clients: *c}\n")
	b.WriteString(strings.Repeat("  - *p\n", n))
	_, err := Parse([]byte(b.String()), "bomb.yaml")
	if err == nil || !strings.Contains(err.Error(), "aliases repeat parts of the file too often") {
		t.Fatalf("err = %v", err)
	}
	// Aliases that repeat a part a few times are fine.
	file, err := Parse([]byte("clients: &c [1, 2]\nprincipals:\n  - {name: a, token_sha256: "+strings.Repeat("a", 64)+", clients: *c}\n"), "ok.yaml")
	if err != nil || len(file.Principals) != 1 || len(file.Principals[0].Clients) != 2 {
		t.Fatalf("a plain alias: %v %+v", err, file)
	}
}
