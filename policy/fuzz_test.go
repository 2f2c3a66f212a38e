package policy

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// FuzzTokenShape feeds arbitrary strings to the check that a token could be
// one this server issued. It must never panic, must accept only the shape
// newToken writes (the prefix, base64url, at most MaxTokenLength), and a
// string it accepts always has exactly one ledger key of 64 hex characters.
func FuzzTokenShape(f *testing.F) {
	token, _, err := newToken()
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{token, "", "wmc_", "wmc_\n", "wmc1.e30.AAAA", token + "=", token + "\n", strings.Repeat("wmc_", 20)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !wellFormed(s) {
			return
		}
		if len(s) > MaxTokenLength || !strings.HasPrefix(s, tokenPrefix) || strings.ContainsAny(s, "=+/ \r\n\t") {
			t.Fatalf("accepted %q", s)
		}
		if key := ledgerKey(s); len(key) != 64 || strings.Trim(key, "0123456789abcdef") != "" {
			t.Fatalf("ledger key of %q: %q", s, key)
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
