package policy

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/whmcs-mcp/whmcs-mcp/schemas"
	"github.com/whmcs-mcp/whmcs-mcp/tools"
)

const (
	hashA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	hashB = "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752"
)

func parsePolicyOK(t *testing.T, src string) *File {
	t.Helper()
	f, err := Parse([]byte(src), "policy.yaml")
	if err != nil {
		t.Fatalf("Parse:\n%s\nerror: %v", src, err)
	}
	return f
}

func TestParseFullExample(t *testing.T) {
	src := `# Production policy for the support bot.
mode: read-write
tools: [get_clients_products, get_products, update_client_product, upgrade_product]
confirmation: token
token_ttl: 90s
guarded_fields: [pid, billingcycle, recurringamount, nextduedate]
allowed_statuses:
  - Active
  - Suspended
max_upgrade_price: 49.5
clients: [1, 2]
principals:
  - name: support-bot
    token_sha256: ` + hashA + `
    mode: read-only
    clients: [7]
    tools: [get_clients_products]
  - name: billing-agent   # full access
    token_sha256: ` + hashB + `
`
	price := 49.5
	want := &File{
		Mode:            ModeReadWrite,
		Tools:           []string{"get_clients_products", "get_products", "update_client_product", "upgrade_product"},
		Confirmation:    ConfirmToken,
		TokenTTL:        Duration(90 * time.Second),
		GuardedFields:   []string{"pid", "billingcycle", "recurringamount", "nextduedate"},
		AllowedStatuses: []string{"Active", "Suspended"},
		MaxUpgradePrice: &price,
		Clients:         []int{1, 2},
		Principals: []PrincipalConfig{
			{Name: "support-bot", TokenSHA256: hashA, Mode: ModeReadOnly, Clients: []int{7}, Tools: []string{"get_clients_products"}},
			{Name: "billing-agent", TokenSHA256: hashB, Mode: ModeReadWrite},
		},
		Approvals: Approvals{TTL: Duration(time.Hour)},
	}
	if got := parsePolicyOK(t, src); !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

func TestDefault(t *testing.T) {
	limit := 50.0
	want := &File{Mode: ModeReadWrite, Confirmation: ConfirmAuto, TokenTTL: Duration(5 * time.Minute),
		GuardedFields:   []string{"product", "price", "billingcycle", "dates", "suspension"},
		AllowedStatuses: []string{"Active", "Suspended"}, MaxUpgradePrice: &limit,
		Approvals: Approvals{TTL: Duration(time.Hour)}}
	if got := Default(); !reflect.DeepEqual(got, want) {
		t.Fatalf("Default() = %+v, want %+v", got, want)
	}
	if Default() == Default() {
		t.Error("Default returns a shared *File")
	}
}

func TestEmptyFileIsTheDefault(t *testing.T) {
	for _, src := range []string{
		"",
		"\n\n",
		"# nothing set yet\n# mode: read-only\n",
		"---\n",
		"~\n",
		"mode:\nconfirmation: ~\ntoken_ttl: null\ntools: []\nprincipals:\n",
	} {
		if got := parsePolicyOK(t, src); !reflect.DeepEqual(got, Default()) {
			t.Errorf("Parse(%q) = %+v, want the default", src, got)
		}
	}
}

func TestLeftOutKeysGetDefaults(t *testing.T) {
	f := parsePolicyOK(t, "allowed_statuses: [Active]\nprincipals:\n  - name: a\n    token_sha256: "+hashA+"\n")
	if f.Mode != ModeReadWrite || f.Confirmation != ConfirmAuto || time.Duration(f.TokenTTL) != DefaultTokenTTL {
		t.Errorf("defaults not filled in: %+v", f)
	}
	if f.Principals[0].Mode != ModeReadWrite {
		t.Errorf("principal mode = %q, want %q", f.Principals[0].Mode, ModeReadWrite)
	}
	if f.Clients != nil || f.Tools != nil || !reflect.DeepEqual(f.AllowedStatuses, []string{"Active"}) {
		t.Errorf("limits set that the file did not: %+v", f)
	}
	if !reflect.DeepEqual(f.GuardedFields, DefaultGuardedFields) || f.MaxUpgradePrice == nil || *f.MaxUpgradePrice != DefaultMaxUpgradePrice {
		t.Errorf("guards left out did not get their defaults: %+v", f)
	}
	none := parsePolicyOK(t, "guarded_fields: []\nallowed_statuses: []\n")
	if none.GuardedFields != nil || none.AllowedStatuses != nil {
		t.Errorf("empty lists given: %+v, want nothing guarded besides status and every status allowed", none)
	}
	zero := parsePolicyOK(t, "max_upgrade_price: 0\n")
	if zero.MaxUpgradePrice == nil || *zero.MaxUpgradePrice != 0 {
		t.Errorf("max_upgrade_price: 0 = %v, want a limit of 0", zero.MaxUpgradePrice)
	}
}

func TestLoad(t *testing.T) {
	f, err := Load("")
	if err != nil || !reflect.DeepEqual(f, Default()) {
		t.Fatalf(`Load("") = %+v, %v; want the default`, f, err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(path, []byte("mode: read-only\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if f, err = Load(path); err != nil || f.Mode != ModeReadOnly {
		t.Fatalf("Load = %+v, %v", f, err)
	}
	if err := os.WriteFile(path, []byte("mode: read-only\nconfirmaton: human\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err = Load(path); err == nil || !strings.Contains(err.Error(), path+`: line 2: unknown key "confirmaton"`) {
		t.Fatalf("Load of a bad file = %v, want an error naming the file, line and key", err)
	}
	if _, err = Load(filepath.Join(dir, "missing.yaml")); err == nil {
		t.Fatal("Load of a missing file succeeded")
	}
}

func TestUnknownKeys(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"mode: read-only\n\nconfirmaton: human\n", `policy.yaml: line 3: unknown key "confirmaton" (did you mean "confirmation"?)`},
		{"Mode: read-only\n", `policy.yaml: line 1: unknown key "Mode" (did you mean "mode"?)`},
		{"tokens_ttl: 5m\n", `line 1: unknown key "tokens_ttl" (did you mean "token_ttl"?)`},
		{"rate_limit: 5\n", `line 1: unknown key "rate_limit"; known keys: mode, tools, confirmation, token_ttl, guarded_fields, allowed_statuses, max_upgrade_price, clients, principals`},
		{"principals:\n  - name: a\n    token_sha256: " + hashA + "\n    client: [1]\n", `policy.yaml: line 4: unknown key "client" in principals[0] (did you mean "clients"?)`},
		{"principals:\n  - name: a\n    token_sha256: " + hashA + "\n  - name: b\n    token: x\n", `policy.yaml: line 5: unknown key "token" in principals[1]`},
		{"mode: read-only\nmode: read-write\n", `policy.yaml: line 2: key "mode" repeats the one on line 1`},
	} {
		_, err := Parse([]byte(tc.src), "policy.yaml")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%q) = %v\nwant an error containing %s", tc.src, err, tc.want)
		}
	}
}

func TestInvalidValues(t *testing.T) {
	principal := func(extra string) string {
		return "principals:\n  - name: bot\n    token_sha256: " + hashA + "\n" + extra
	}
	for _, tc := range []struct{ src, want string }{
		// mode and confirmation
		{"mode: readonly\n", `line 1: mode: "readonly" is not a mode (did you mean "read-only"?); want one of read-write, read-only`},
		{"mode: ''\n", `line 1: mode: "" is not a mode`},
		{"mode: [read-only]\n", `line 1: mode: want a string, got a list`},
		{"confirmation: manual\n", `line 1: confirmation: "manual" is not a confirmation; want one of auto, human, token`},
		{"confirmation: Human\n", `confirmation: "Human" is not a confirmation (did you mean "human"?)`},
		// token_ttl
		{"token_ttl: 0s\n", `line 1: token_ttl: must be more than 0`},
		{"token_ttl: -1m\n", `line 1: token_ttl: must be more than 0`},
		{"token_ttl: 25h\n", `line 1: token_ttl: must be at most 24h`},
		{"token_ttl: 300\n", `line 1: token_ttl: want a duration such as 5m or 90s, got "300" (a number needs a unit: 300s)`},
		{"token_ttl: five minutes\n", `line 1: token_ttl: want a duration such as 5m or 90s, got "five minutes"`},
		// tools
		{"tools: [get_products, update_clients_product]\n", `line 1: tools[1]: "update_clients_product" is not a tool (did you mean "update_client_product"?)`},
		{"tools:\n  - get_products\n  - delete_client\n", `line 3: tools[1]: "delete_client" is not a tool; want one of get_clients_products,`},
		{"tools: get_products\n", `line 1: tools: want a list, got "get_products"`},
		// guarded_fields
		{"guarded_fields: [pid, serviceid]\n", `line 1: guarded_fields[1]: "serviceid" is not an effect or a field of update_client_product or update_client_addon`},
		{"guarded_fields: [prices]\n", `line 1: guarded_fields[0]: "prices" is not an effect or a field of update_client_product or update_client_addon (did you mean "price"?)`},
		{"guarded_fields: [billing_cycle]\n", `guarded_fields[0]: "billing_cycle" is not an effect or a field of update_client_product or update_client_addon (did you mean "billingcycle"?)`},
		{"principals:\n  - name: local\n    token_sha256: " + hashA + "\n", `line 2: principals[0].name: "local" is reserved`},
		{"principals:\n  - name: anonymous\n    token_sha256: " + hashA + "\n", `principals[0].name: "anonymous" is reserved`},
		// allowed_statuses
		{"allowed_statuses: [Active, suspended]\n", `line 1: allowed_statuses[1]: "suspended" is not a WHMCS status (did you mean "Suspended"?)`},
		{"allowed_statuses: [Deleted]\n", `allowed_statuses[0]: "Deleted" is not a WHMCS status; want one of Pending, Active, Suspended, Terminated, Cancelled, Fraud, Completed`},
		// max_upgrade_price
		{"max_upgrade_price: -1\n", `line 1: max_upgrade_price: must be a number of 0 or more, got -1`},
		{"max_upgrade_price: .nan\n", `line 1: max_upgrade_price: must be a number of 0 or more, got NaN`},
		{"max_upgrade_price: ten\n", `line 1: max_upgrade_price: want a number, got "ten"`},
		// clients
		{"clients: [1, 0]\n", `line 1: clients[1]: client ids are 1 or more, got 0`},
		{"clients:\n  - 3\n  - -2\n", `line 3: clients[1]: client ids are 1 or more, got -2`},
		{"clients: [1.5]\n", `line 1: clients[0]: want a whole number, got "1.5"`},
		{"clients: ['3']\n", `line 1: clients[0]: want a whole number, got "3"`},
		{"max_upgrade_price: '10'\n", `line 1: max_upgrade_price: want a number, got "10"`},
		{"clients: all\n", `line 1: clients: want a list, got "all"`},
		// principals
		{"principals:\n  name: bot\n", `line 2: principals: want a list, got a mapping`},
		{"principals: [bot]\n", `line 1: principals[0]: want a mapping of keys, got "bot"`},
		{"principals:\n  - token_sha256: " + hashA + "\n", `line 2: principals[0].name: required`},
		{"principals:\n  - name: '  '\n    token_sha256: " + hashA + "\n", `line 2: principals[0].name: required`},
		{principal("  - name: bot\n    token_sha256: " + hashB + "\n"), `line 4: principals[1].name: "bot" is also the name of principals[0]`},
		{"principals:\n  - name: bot\n", `line 2: principals[0].token_sha256: want the lowercase hex SHA-256`},
		{"principals:\n  - name: bot\n    token_sha256: " + strings.ToUpper(hashA) + "\n", `line 3: principals[0].token_sha256: want the lowercase hex SHA-256 of the principal's bearer token (64 characters of 0-9a-f, e.g. from ` + "`printf %s TOKEN | sha256sum`" + `); write it in lowercase`},
		{"principals:\n  - name: bot\n    token_sha256: " + hashA[:63] + "\n", `line 3: principals[0].token_sha256: want the lowercase hex SHA-256`},
		{"principals:\n  - name: bot\n    token_sha256: " + hashA[:63] + "g\n", `line 3: principals[0].token_sha256: want the lowercase hex SHA-256`},
		{principal("  - name: other\n    token_sha256: " + hashA + "\n"), `line 5: principals[1].token_sha256: the same token as principals[0]`},
		{principal("    mode: admin\n"), `line 4: principals[0].mode: "admin" is not a mode`},
		{"principals:\n  - name: bot\n", `principals[0].token_sha256: want the lowercase hex SHA-256 of the principal's bearer token (64 characters of 0-9a-f, e.g. from ` + "`printf %s TOKEN | sha256sum`" + `); or, for a caller with OAuth access tokens, oauth_sub and/or oauth_scope`},
		// principals matched by OAuth access tokens
		{principal("    oauth_sub: alice\n"), `line 3: principals[0].token_sha256: a principal is matched either by token_sha256 (a bearer token) or by oauth_sub / oauth_scope (an OAuth access token), not both`},
		{"principals:\n  - name: bot\n    oauth_scope: 'whmcs:read whmcs:write'\n", `line 3: principals[0].oauth_scope: want the claim's value as the identity provider writes it: printable, without spaces, got "whmcs:read whmcs:write"`},
		{"principals:\n  - name: bot\n    oauth_sub: alice\n    oauth_scope: ''\n", `line 4: principals[0].oauth_scope: want the claim's value`},
		{"principals:\n  - name: a\n    oauth_sub: alice\n  - name: b\n    oauth_sub: alice\n", `line 4: principals[1]: matches the same access tokens as principals[0] (oauth_sub "alice", oauth_scope "")`},
		{"principals:\n  - name: a\n    oauth_subject: alice\n", `line 3: unknown key "oauth_subject" in principals[0]; known keys: name, token_sha256, oauth_sub, oauth_scope, mode`},
		{principal("    tools: [get_product]\n"), `line 4: principals[0].tools[0]: "get_product" is not a tool (did you mean "get_products"?)`},
		{principal("    clients: [0]\n"), `line 4: principals[0].clients[0]: client ids are 1 or more, got 0`},
		// the file as a whole
		{"- mode: read-only\n", `policy.yaml: line 1: want a mapping of policy keys (mode, tools, confirmation, ...), got a list`},
		{"read-only\n", `policy.yaml: line 1: want a mapping of policy keys`},
		{"mode: read-only\n---\nmode: read-write\n", `policy.yaml: line 2: the policy file must be one YAML document`},
		{"mode: [read-only\n", `policy.yaml: line 1: did not find expected ',' or ']'`},
	} {
		_, err := Parse([]byte(tc.src), "policy.yaml")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%q) = %v\nwant an error containing %s", tc.src, err, tc.want)
		}
	}
}

func TestBadTokenSHA256IsNotRepeated(t *testing.T) {
	bearer := "sk-live-0123456789abcdef-the-raw-token"
	_, err := Parse([]byte("principals:\n  - name: bot\n    token_sha256: "+bearer+"\n"), "policy.yaml")
	if err == nil {
		t.Fatal("a raw bearer token was accepted as token_sha256")
	}
	if strings.Contains(err.Error(), bearer) {
		t.Errorf("the error repeats the value, which may be a bearer token: %v", err)
	}
}

func TestEveryProblemIsReportedInLineOrder(t *testing.T) {
	src := "clients: [0]\nmode: writeable\nconfirmation: always\ntoken_ttl: 48h\nmax_price: 5\n"
	_, err := Parse([]byte(src), "p.yaml")
	if err == nil {
		t.Fatal("Parse succeeded")
	}
	lines := strings.Split(err.Error(), "\n")
	want := []string{"p.yaml: line 1: clients[0]", "p.yaml: line 2: mode", "p.yaml: line 3: confirmation", "p.yaml: line 4: token_ttl", `p.yaml: line 5: unknown key "max_price"`}
	if len(lines) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%v", len(lines), len(want), err)
	}
	for i, l := range lines {
		if !strings.HasPrefix(l, want[i]) {
			t.Errorf("problem %d = %q, want it to start with %q", i+1, l, want[i])
		}
	}
}

func TestDurationYAML(t *testing.T) {
	for src, want := range map[string]time.Duration{
		"5m":    5 * time.Minute,
		"90s":   90 * time.Second,
		"1h30m": 90 * time.Minute,
		"250ms": 250 * time.Millisecond,
		`"2m"`:  2 * time.Minute,
	} {
		var d Duration
		if err := yaml.Unmarshal([]byte(src), &d); err != nil || time.Duration(d) != want {
			t.Errorf("Unmarshal(%s) = %v, %v; want %v", src, time.Duration(d), err, want)
		}
	}
	for _, src := range []string{"5", "five", "5 minutes", "[5m]", "{a: 1}"} {
		var d Duration
		if err := yaml.Unmarshal([]byte(src), &d); err == nil {
			t.Errorf("Unmarshal(%s) = %v, want an error", src, time.Duration(d))
		}
	}
	out, err := yaml.Marshal(struct {
		TTL Duration `yaml:"token_ttl"`
	}{Duration(90 * time.Second)})
	if err != nil || string(out) != "token_ttl: 1m30s\n" {
		t.Errorf("Marshal = %q, %v", out, err)
	}
	if s := Duration(5 * time.Minute).String(); s != "5m0s" {
		t.Errorf("String = %q", s)
	}
	back := parsePolicyOK(t, string(out))
	if time.Duration(back.TokenTTL) != 90*time.Second {
		t.Errorf("round trip = %v", back.TokenTTL)
	}
}

func TestToolNamesAreTheTools(t *testing.T) {
	var names []string
	for _, tool := range tools.All(nil) {
		names = append(names, tool.Name)
	}
	if !slices.Equal(names, ToolNames) {
		t.Errorf("ToolNames = %v, but the tools are %v", ToolNames, names)
	}
}

func TestGuardableFieldsAreEffectsAndUpdateArguments(t *testing.T) {
	want := slices.Clone(tools.Effects)
	for _, tool := range []string{"update_client_product", "update_client_addon"} {
		raw, err := schemas.Input(tool)
		if err != nil {
			t.Fatal(err)
		}
		var schema struct {
			Properties map[string]json.RawMessage `json:"properties"`
		}
		if err := json.Unmarshal(raw, &schema); err != nil {
			t.Fatal(err)
		}
		for name := range schema.Properties {
			if name != "serviceid" && name != "id" && name != "confirmation_token" && name != "approval_id" {
				want = append(want, name)
			}
		}
	}
	want = slices.Compact(slices.Sorted(slices.Values(want)))
	if !slices.Equal(GuardableFields, want) {
		t.Errorf("GuardableFields = %v\nwant the effects and the update tools' arguments = %v", GuardableFields, want)
	}
}

func TestParseAcceptsEveryListedValue(t *testing.T) {
	quote := func(values []string) string {
		return "[" + strings.Join(values, ", ") + "]"
	}
	src := "tools: " + quote(ToolNames) + "\nguarded_fields: " + quote(GuardableFields) + "\nallowed_statuses: " + quote(StatusValues) + "\n"
	f := parsePolicyOK(t, src)
	if !slices.Equal(f.Tools, ToolNames) || !slices.Equal(f.GuardedFields, GuardableFields) || !slices.Equal(f.AllowedStatuses, StatusValues) {
		t.Errorf("lists changed: %+v", f)
	}
	for _, mode := range ModeValues {
		for _, c := range ConfirmationValues {
			if f := parsePolicyOK(t, "mode: "+mode+"\nconfirmation: "+c+"\ntoken_ttl: 24h\n"); f.Mode != mode || f.Confirmation != c {
				t.Errorf("got %q %q, want %q %q", f.Mode, f.Confirmation, mode, c)
			}
		}
	}
}
