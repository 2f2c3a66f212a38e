package policy

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"reflect"
	"slices"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/whmcs-mcp/whmcs-mcp/tools"
	"github.com/whmcs-mcp/whmcs-mcp/whmcs"
)

// Modes: what a policy file or a principal allows.
const (
	// ModeReadWrite allows every tool (the default).
	ModeReadWrite = "read-write"
	// ModeReadOnly hides the write tools entirely.
	ModeReadOnly = "read-only"
)

// Confirmation values: how a guarded change is confirmed.
const (
	// ConfirmAuto asks the user through elicitation where the MCP client
	// supports it, and otherwise uses the token round trip (the default).
	ConfirmAuto = "auto"
	// ConfirmHuman requires elicitation; a client without it gets a tool error.
	ConfirmHuman = "human"
	// ConfirmToken always uses the confirmation_token round trip.
	ConfirmToken = "token"
)

// Token lifetimes.
const (
	// DefaultTokenTTL is how long a confirmation token lives by default.
	DefaultTokenTTL = 5 * time.Minute
	// MaxTokenTTL is the longest token_ttl a policy file may set.
	MaxTokenTTL = 24 * time.Hour
)

// ModeValues are the valid values of mode.
var ModeValues = []string{ModeReadWrite, ModeReadOnly}

// ConfirmationValues are the valid values of confirmation.
var ConfirmationValues = []string{ConfirmAuto, ConfirmHuman, ConfirmToken}

// ToolNames are the MCP tools a tools allowlist may name.
var ToolNames = func() []string {
	var names []string
	for _, t := range tools.Specs() {
		names = append(names, t.Name)
	}
	return names
}()

// StatusValues are WHMCS's service and addon statuses, the values
// allowed_statuses may list.
var StatusValues = whmcs.ServiceStatuses

// GuardableFields are what guarded_fields may list: the effects a write can
// have (tools.Effects: status, product, price, billingcycle, dates,
// suspension) and every field of update_client_product and
// update_client_addon but the record's id.
var GuardableFields = slices.Compact(slices.Sorted(slices.Values(append(slices.Clone(tools.Effects), tools.UpdateFields()...))))

// ReservedNames are the principal names the server gives callers itself;
// the policy file's principals may not take them.
var ReservedNames = []string{LocalPrincipal, AnonymousPrincipal, TokenPrincipal}

// File is the policy file's content. Every key is optional; Load and Parse
// fill in the defaults of keys left out (see Default).
type File struct {
	// Mode is ModeReadWrite (default) or ModeReadOnly.
	Mode string `yaml:"mode"`
	// Tools is an allowlist of tool names; empty means every tool the mode
	// allows.
	Tools []string `yaml:"tools"`
	// Confirmation is ConfirmAuto (default), ConfirmHuman or ConfirmToken.
	Confirmation string `yaml:"confirmation"`
	// TokenTTL is how long a confirmation token lives: default 5m, at most 24h.
	TokenTTL Duration `yaml:"token_ttl"`
	// GuardedFields are the effects (tools.Effects) and fields of the
	// update tools that need a confirmation besides status; by default
	// every product, money, cycle, date and suspension effect.
	GuardedFields []string `yaml:"guarded_fields"`
	// AllowedStatuses are the statuses an agent may set (default Active and
	// Suspended); empty means all.
	AllowedStatuses []string `yaml:"allowed_statuses"`
	// MaxUpgradePrice refuses, at preview, upgrades quoted above it
	// (default 50); nil means no limit.
	MaxUpgradePrice *float64 `yaml:"max_upgrade_price"`
	// Clients are the client ids the default (stdio) principal may see and
	// touch; empty means all.
	Clients []int `yaml:"clients"`
	// Principals are the HTTP callers, each known by its bearer token or by
	// its OAuth access token's subject or scope.
	Principals []PrincipalConfig `yaml:"principals"`
	// Approvals names the guarded changes that need a member of staff to
	// approve them on the approval pages, and who may.
	Approvals Approvals `yaml:"approvals"`
}

// PrincipalConfig is one HTTP caller in the policy file.
type PrincipalConfig struct {
	// Name identifies the principal in logs and the audit log.
	Name string `yaml:"name"`
	// TokenSHA256 is the lowercase hex SHA-256 of the principal's bearer
	// token: exactly 64 lowercase hex characters. A principal is matched
	// either by it or by OAuthSub and/or OAuthScope, never both ways.
	TokenSHA256 string `yaml:"token_sha256"`
	// OAuthSub matches the OAuth access tokens whose sub claim it is.
	OAuthSub string `yaml:"oauth_sub"`
	// OAuthScope matches the OAuth access tokens that carry this scope.
	// With OAuthSub, a token must match both.
	OAuthScope string `yaml:"oauth_scope"`
	// Mode is ModeReadWrite (default) or ModeReadOnly.
	Mode string `yaml:"mode"`
	// Clients are the client ids in the principal's scope; empty means all.
	Clients []int `yaml:"clients"`
	// Tools is the principal's allowlist; empty means every tool the modes
	// and the file's allowlist allow.
	Tools []string `yaml:"tools"`
}

// OAuth reports whether the principal is matched by OAuth access tokens
// (oauth_sub or oauth_scope) rather than by a bearer token's digest.
func (pc PrincipalConfig) OAuth() bool { return pc.OAuthSub != "" || pc.OAuthScope != "" }

// Duration is a time.Duration written in YAML as a Go duration string
// ("5m", "90s", "1h30m").
type Duration time.Duration

// durationWanted describes a valid Duration in errors.
const durationWanted = "a duration such as 5m or 90s"

// UnmarshalYAML parses a Go duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("want %s", durationWanted)
	}
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		hint := ""
		if strings.Trim(n.Value, "0123456789") == "" {
			hint = " (a number needs a unit: " + n.Value + "s)"
		}
		return fmt.Errorf("want %s, got %q%s", durationWanted, n.Value, hint)
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes the duration as a Go duration string.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// String returns the duration as Go formats it, e.g. "5m0s".
func (d Duration) String() string { return time.Duration(d).String() }

// Defaults of the keys that guard changes.
var (
	// DefaultGuardedFields guards every effect besides status.
	DefaultGuardedFields = []string{tools.EffectProduct, tools.EffectPrice, tools.EffectCycle, tools.EffectDates, tools.EffectSuspension}
	// DefaultAllowedStatuses are the statuses an agent may set by default.
	DefaultAllowedStatuses = []string{"Active", "Suspended"}
	// DefaultMaxUpgradePrice is the largest upgrade price quoted that is
	// not refused by default.
	DefaultMaxUpgradePrice = 50.0
)

// Default returns the policy that applies without a policy file: read-write,
// every tool, automatic confirmation, 5-minute tokens, every effect guarded,
// agents may set Active and Suspended only, upgrades up to 50.
func Default() *File {
	limit := DefaultMaxUpgradePrice
	return &File{
		Mode: ModeReadWrite, Confirmation: ConfirmAuto, TokenTTL: Duration(DefaultTokenTTL),
		GuardedFields:   slices.Clone(DefaultGuardedFields),
		AllowedStatuses: slices.Clone(DefaultAllowedStatuses),
		MaxUpgradePrice: &limit,
		Approvals:       Approvals{TTL: Duration(DefaultApprovalTTL)},
	}
}

// Digest is the hex SHA-256 of the policy: a confirmation is bound to the
// policy it was issued under, and any change to the policy voids it.
func (f *File) Digest() string {
	b, _ := json.Marshal(f)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Load reads and parses the policy file at path; "" means no file, and
// Default applies.
func Load(path string) (*File, error) {
	if path == "" {
		return Default(), nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the policy file: %w", err)
	}
	return Parse(data, path)
}

// Parse parses and validates a policy file's content; source names it in
// errors ("policy.yaml: line 3: unknown key \"confirmaton\""). Keys left
// out, or set to null, get their defaults; an empty file, or one with only
// comments, is the default policy. An unknown key anywhere, a value of the
// wrong type or an invalid value is an error that names the key and, where
// the file has one, its line; every problem found is reported, one a line.
func Parse(data []byte, source string) (*File, error) {
	if source == "" {
		source = "policy file"
	}
	p := &fileParser{source: source, lines: map[string]int{}, set: map[string]bool{}}
	f := p.parse(data)
	if len(p.errs) > 0 {
		return nil, p.err()
	}
	return f, nil
}

// fileParser parses one policy file, keeping the line of every key so that
// errors found after decoding can still point into the file.
type fileParser struct {
	source string
	lines  map[string]int  // key path ("mode", "principals[0].name", "tools[2]") -> line
	set    map[string]bool // key paths given a non-null value
	errs   []fileError
	// unknownKeys counts the errors that are unknown keys: the rest of the
	// file still decodes, so its values are validated too.
	unknownKeys int
	// budget is how many more YAML nodes check may visit. An alias makes it
	// visit its anchor's nodes again, so a few kilobytes with nested
	// aliases ("billion laughs") could expand to billions of values.
	budget, maxNodes int
}

// nodeBudget is how many nodes check may visit for a document of n nodes:
// aliases may repeat parts of a file, not blow it up.
func nodeBudget(n int) int { return 10*n + 10_000 }

// countNodes counts a document's nodes without following aliases.
func countNodes(n *yaml.Node) int {
	count := 1
	for _, c := range n.Content {
		count += countNodes(c)
	}
	return count
}

// fileError is one problem, at a line of the file (0 when unknown).
type fileError struct {
	line int
	msg  string
}

func (p *fileParser) parse(data []byte) *File {
	f := Default()
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	switch err := dec.Decode(&doc); {
	case err == io.EOF: // empty, or only comments
		return f
	case err != nil:
		p.errs = append(p.errs, fileError{msg: strings.TrimPrefix(err.Error(), "yaml: ")})
		return nil
	}
	var next yaml.Node
	if err := dec.Decode(&next); err != io.EOF {
		line := 0
		if err == nil {
			line = next.Line
		}
		p.add(line, "the policy file must be one YAML document; remove the second one")
		return nil
	}
	root := resolveYAMLAlias(doc.Content[0])
	if isYAMLNull(root) {
		return f
	}
	if root.Kind != yaml.MappingNode {
		p.add(root.Line, "want a mapping of policy keys (mode, tools, confirmation, ...), got %s", yamlNodeKind(root))
		return nil
	}
	p.maxNodes = nodeBudget(countNodes(&doc))
	p.budget = p.maxNodes
	p.check(root, reflect.TypeFor[File](), "")
	if len(p.errs) > p.unknownKeys {
		return nil
	}
	if err := root.Decode(f); err != nil { // check found every type error, so this should not happen
		p.add(0, "%s", strings.TrimPrefix(err.Error(), "yaml: "))
		return nil
	}
	p.fillDefaults(f)
	p.validate(f)
	return f
}

// fillDefaults gives the keys that were left out, or set to null, their
// default values, and makes empty lists nil. An empty list that was given
// means what it says: guarded_fields: [] guards nothing besides status,
// allowed_statuses: [] allows every status, and the other lists do not
// narrow anything.
func (p *fileParser) fillDefaults(f *File) {
	def := Default()
	for _, list := range []*[]string{&f.Tools, &f.GuardedFields, &f.AllowedStatuses} {
		if len(*list) == 0 {
			*list = nil
		}
	}
	if len(f.Clients) == 0 {
		f.Clients = nil
	}
	if len(f.Principals) == 0 {
		f.Principals = nil
	}
	if !p.set["mode"] {
		f.Mode = def.Mode
	}
	if !p.set["confirmation"] {
		f.Confirmation = def.Confirmation
	}
	if !p.set["token_ttl"] {
		f.TokenTTL = def.TokenTTL
	}
	if !p.set["guarded_fields"] {
		f.GuardedFields = def.GuardedFields
	}
	if !p.set["allowed_statuses"] {
		f.AllowedStatuses = def.AllowedStatuses
	}
	if !p.set["max_upgrade_price"] {
		f.MaxUpgradePrice = def.MaxUpgradePrice
	}
	p.fillApprovalDefaults(&f.Approvals)
	for i := range f.Principals {
		pr := &f.Principals[i]
		if !p.set[fmt.Sprintf("principals[%d].mode", i)] {
			pr.Mode = ModeReadWrite
		}
		if len(pr.Clients) == 0 {
			pr.Clients = nil
		}
		if len(pr.Tools) == 0 {
			pr.Tools = nil
		}
	}
}

// check walks a YAML node against the Go type it decodes into: every
// mapping key must be a field of the struct, no key may repeat, lists must be
// lists and scalars must decode into their field's type.
func (p *fileParser) check(n *yaml.Node, t reflect.Type, path string) {
	if p.budget <= 0 {
		return
	}
	if p.budget--; p.budget == 0 {
		p.add(n.Line, "aliases repeat parts of the file too often: it expands to more than %d values; write the repeated parts out", p.maxNodes)
		return
	}
	n = resolveYAMLAlias(n)
	if isYAMLNull(n) {
		return
	}
	switch {
	case t.Kind() == reflect.Struct:
		if n.Kind != yaml.MappingNode {
			p.add(n.Line, "%s: want a mapping of keys, got %s", path, yamlNodeKind(n))
			return
		}
		fields := yamlFields(t)
		seen := map[string]int{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			key, value := n.Content[i], n.Content[i+1]
			name := key.Value
			childPath := joinKeyPath(path, name)
			if line, ok := seen[name]; ok {
				p.add(key.Line, "key %q%s repeats the one on line %d", name, inPath(path), line)
				continue
			}
			seen[name] = key.Line
			field, ok := fields[name]
			if !ok {
				p.add(key.Line, "unknown key %q%s%s", name, inPath(path), p.suggestKey(name, t))
				p.unknownKeys++
				continue
			}
			p.lines[childPath] = key.Line
			if !isYAMLNull(resolveYAMLAlias(value)) {
				p.set[childPath] = true
			}
			p.check(value, field.Type, childPath)
		}
	case t.Kind() == reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			p.add(n.Line, "%s: want a list, got %s", path, yamlNodeKind(n))
			return
		}
		for i, item := range n.Content {
			itemPath := fmt.Sprintf("%s[%d]", path, i)
			p.lines[itemPath] = item.Line
			p.check(item, t.Elem(), itemPath)
		}
	default:
		want := describeType(t)
		if n.Kind != yaml.ScalarNode {
			p.add(n.Line, "%s: want %s, got %s", path, want, yamlNodeKind(n))
			return
		}
		// YAML would truncate 1.5 into an int, and a quoted number is text.
		tag := n.ShortTag()
		wrongNumber := (t.Kind() == reflect.Int && tag != "!!int") ||
			(t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.Float64 && tag != "!!int" && tag != "!!float")
		if wrongNumber {
			p.add(n.Line, "%s: want %s, got %q", path, want, n.Value)
			return
		}
		if err := n.Decode(reflect.New(t).Interface()); err != nil {
			if t == reflect.TypeFor[Duration]() {
				p.add(n.Line, "%s: %v", path, err)
			} else {
				p.add(n.Line, "%s: want %s, got %q", path, want, n.Value)
			}
		}
	}
}

// validate checks the decoded values.
func (p *fileParser) validate(f *File) {
	p.oneOf("mode", f.Mode, ModeValues, "a mode")
	p.names("tools", f.Tools, ToolNames, "a tool")
	p.oneOf("confirmation", f.Confirmation, ConfirmationValues, "a confirmation")
	switch ttl := time.Duration(f.TokenTTL); {
	case ttl <= 0:
		p.invalid("token_ttl", "must be more than 0, got %s", ttl)
	case ttl > MaxTokenTTL:
		p.invalid("token_ttl", "must be at most 24h (a confirmation is meant to follow its preview), got %s", ttl)
	}
	p.names("guarded_fields", f.GuardedFields, GuardableFields, "an effect or a field of update_client_product or update_client_addon")
	p.names("allowed_statuses", f.AllowedStatuses, StatusValues, "a WHMCS status")
	if price := f.MaxUpgradePrice; price != nil && (math.IsNaN(*price) || math.IsInf(*price, 0) || *price < 0) {
		p.invalid("max_upgrade_price", "must be a number of 0 or more, got %v", *price)
	}
	p.clientIDs("clients", f.Clients)
	p.validateApprovals(f)

	names, tokens, matches := map[string]string{}, map[string]string{}, map[[2]string]string{}
	for i, pr := range f.Principals {
		path := fmt.Sprintf("principals[%d]", i)
		switch name := strings.TrimSpace(pr.Name); {
		case name == "":
			p.invalid(path+".name", "required: a name for the audit log and the logs")
		case slices.Contains(ReservedNames, name):
			p.invalid(path+".name", "%q is reserved for a caller the server names itself (%s); choose another name", pr.Name, strings.Join(ReservedNames, ", "))
		case names[name] != "":
			p.invalid(path+".name", "%q is also the name of %s", pr.Name, names[name])
		default:
			names[name] = path
		}
		if pr.OAuth() {
			p.oauthMatch(path, pr, matches)
		} else {
			p.tokenMatch(path, pr.TokenSHA256, tokens)
		}
		p.oneOf(path+".mode", pr.Mode, ModeValues, "a mode")
		p.clientIDs(path+".clients", pr.Clients)
		p.names(path+".tools", pr.Tools, ToolNames, "a tool")
	}
}

// tokenMatch checks the token_sha256 of the principal at path; tokens maps
// the digests seen to their principal's path.
func (p *fileParser) tokenMatch(path, hash string, tokens map[string]string) {
	switch {
	case !isLowerHexSHA256(hash):
		// The value is not repeated: it may be a bearer token pasted by mistake.
		hint := ""
		if isLowerHexSHA256(strings.ToLower(hash)) {
			hint = "; write it in lowercase"
		} else if hash != "" {
			hint = fmt.Sprintf("; got %d characters that are not that", len(hash))
		} else {
			hint = "; or, for a caller with OAuth access tokens, oauth_sub and/or oauth_scope"
		}
		p.invalid(path+".token_sha256", "want the lowercase hex SHA-256 of the principal's bearer token (64 characters of 0-9a-f, e.g. from `printf %%s TOKEN | sha256sum`)%s", hint)
	case tokens[hash] != "":
		p.invalid(path+".token_sha256", "the same token as %s: each principal needs its own", tokens[hash])
	default:
		tokens[hash] = path
	}
}

// oauthMatch checks how the principal at path matches OAuth access tokens:
// by oauth_sub and/or oauth_scope, not by token_sha256 as well, and not
// the same tokens as another principal; matches maps the (sub, scope) pairs
// seen to their principal's path.
func (p *fileParser) oauthMatch(path string, pr PrincipalConfig, matches map[[2]string]string) {
	if pr.TokenSHA256 != "" {
		p.invalid(path+".token_sha256", "a principal is matched either by token_sha256 (a bearer token) or by oauth_sub / oauth_scope (an OAuth access token), not both; make two principals")
	}
	for _, kv := range [][2]string{{"oauth_sub", pr.OAuthSub}, {"oauth_scope", pr.OAuthScope}} {
		if p.set[path+"."+kv[0]] && !isPrintable(kv[1]) {
			p.invalid(path+"."+kv[0], "want the claim's value as the identity provider writes it: printable, without spaces, got %q", kv[1])
		}
	}
	key := [2]string{pr.OAuthSub, pr.OAuthScope}
	if other := matches[key]; other != "" {
		p.invalid(path, "matches the same access tokens as %s (oauth_sub %q, oauth_scope %q): one principal per match", other, pr.OAuthSub, pr.OAuthScope)
		return
	}
	matches[key] = path
}

// isPrintable reports whether s is non-empty printable ASCII without spaces.
func isPrintable(s string) bool {
	for _, r := range s {
		if r <= ' ' || r > '~' {
			return false
		}
	}
	return s != ""
}

// oneOf reports value at path unless it is one of valid.
func (p *fileParser) oneOf(path, value string, valid []string, what string) {
	if slices.Contains(valid, value) {
		return
	}
	p.invalid(path, "%q is not %s%s; want one of %s", value, what, suggestValue(value, valid), strings.Join(valid, ", "))
}

// names checks every item of a list of names.
func (p *fileParser) names(path string, values, valid []string, what string) {
	for i, v := range values {
		p.oneOf(fmt.Sprintf("%s[%d]", path, i), v, valid, what)
	}
}

// clientIDs checks a list of WHMCS client ids.
func (p *fileParser) clientIDs(path string, ids []int) {
	for i, id := range ids {
		if id <= 0 {
			p.invalid(fmt.Sprintf("%s[%d]", path, i), "client ids are 1 or more, got %d", id)
		}
	}
}

// invalid reports a bad value at a key path, on the line of the key or of
// the nearest enclosing one.
func (p *fileParser) invalid(path, format string, args ...any) {
	p.add(p.lineOf(path), "%s: %s", path, fmt.Sprintf(format, args...))
}

// lineOf returns the line of path, or of its nearest ancestor that has one.
func (p *fileParser) lineOf(path string) int {
	for path != "" {
		if line, ok := p.lines[path]; ok {
			return line
		}
		cut := max(strings.LastIndexByte(path, '.'), strings.LastIndexByte(path, '['))
		if cut < 0 {
			break
		}
		path = path[:cut]
	}
	return 0
}

func (p *fileParser) add(line int, format string, args ...any) {
	p.errs = append(p.errs, fileError{line: line, msg: fmt.Sprintf(format, args...)})
}

// err returns every problem found, in the order of the file's lines.
func (p *fileParser) err() error {
	sort.SliceStable(p.errs, func(i, j int) bool {
		a, b := p.errs[i].line, p.errs[j].line
		return a != 0 && (b == 0 || a < b)
	})
	errs := make([]error, len(p.errs))
	for i, e := range p.errs {
		if e.line > 0 {
			errs[i] = fmt.Errorf("%s: line %d: %s", p.source, e.line, e.msg)
		} else {
			errs[i] = fmt.Errorf("%s: %s", p.source, e.msg)
		}
	}
	return errors.Join(errs...)
}

// suggestKey returns " (did you mean "x"?)" for a near miss of one of t's
// keys, or the list of t's keys.
func (p *fileParser) suggestKey(name string, t reflect.Type) string {
	var keys []string
	for i := range t.NumField() {
		keys = append(keys, yamlName(t.Field(i)))
	}
	if s := suggestValue(name, keys); s != "" {
		return s
	}
	return "; known keys: " + strings.Join(keys, ", ")
}

// suggestValue returns " (did you mean "x"?)" when one of valid is a near
// miss of value (another case, or up to two typing mistakes), else "".
func suggestValue(value string, valid []string) string {
	best, bestDist := "", 3
	for _, v := range valid {
		if strings.EqualFold(v, value) {
			return fmt.Sprintf(" (did you mean %q?)", v)
		}
		if d := levenshtein(strings.ToLower(value), v); d < bestDist && d < len(v)/2 {
			best, bestDist = v, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// levenshtein is the Levenshtein distance between a and b.
func levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// yamlFields maps a struct's YAML keys to its fields.
func yamlFields(t reflect.Type) map[string]reflect.StructField {
	fields := map[string]reflect.StructField{}
	for i := range t.NumField() {
		fields[yamlName(t.Field(i))] = t.Field(i)
	}
	return fields
}

// yamlName is the key of a struct field in YAML.
func yamlName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if name == "" {
		name = strings.ToLower(f.Name)
	}
	return name
}

// describeType says in words what a scalar of type t looks like.
func describeType(t reflect.Type) string {
	switch {
	case t == reflect.TypeFor[Duration]():
		return durationWanted
	case t.Kind() == reflect.Pointer:
		return describeType(t.Elem())
	case t.Kind() == reflect.String:
		return "a string"
	case t.Kind() == reflect.Int:
		return "a whole number"
	case t.Kind() == reflect.Float64:
		return "a number"
	}
	return t.String()
}

func joinKeyPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// inPath returns " in PATH" for a nested mapping, "" at the top level.
func inPath(path string) string {
	if path == "" {
		return ""
	}
	return " in " + path
}

func resolveYAMLAlias(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func isYAMLNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// yamlNodeKind names a YAML node's kind in errors.
func yamlNodeKind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("%q", n.Value)
	}
	return "something else"
}

// isLowerHexSHA256 reports whether s is 64 lowercase hex characters.
func isLowerHexSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range []byte(s) {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
