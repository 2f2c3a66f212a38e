package tools

// The registry (All) is the one place a tool is declared: these tests tell
// whoever adds a tool what they missed.

import (
	"context"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/whmcs-mcp/whmcs-mcp/whmcs/sandbox"
)

// snake turns a WHMCS action name into its tool name.
func snake(action string) string {
	var b strings.Builder
	for i, r := range action {
		if unicode.IsUpper(r) && i > 0 {
			b.WriteByte('_')
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// argNames returns the JSON names of a tool's arguments.
func argNames(args any) map[string]bool {
	names := map[string]bool{}
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for i := range t.NumField() {
			f := t.Field(i)
			if f.Anonymous {
				walk(f.Type)
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			names[name] = true
		}
	}
	walk(reflect.TypeOf(args).Elem())
	return names
}

func TestEveryToolDeclaresWhatItIs(t *testing.T) {
	seen := map[string]bool{}
	for _, tool := range All(nil) {
		name := tool.Name
		if seen[name] {
			t.Errorf("%s is registered twice", name)
		}
		seen[name] = true
		if name != snake(tool.Action) {
			t.Errorf("%s: the name must be the WHMCS action %q in snake_case (%s)", name, tool.Action, snake(tool.Action))
		}
		if tool.Summary == "" || tool.Description == "" || tool.Args == nil || tool.Result == nil {
			t.Errorf("%s: declare Summary, Description, Args and Result", name)
		}
		if tool.Probe.Run == nil {
			t.Errorf("%s: declare a Probe that calls %s without changing anything (whmcs-mcp check)", name, tool.Action)
		}
		args := argNames(tool.Args)
		// WHMCS names its client filter clientid in some actions and userid
		// in others (GetInvoices, GetOrders, GetTickets...).
		for _, filter := range []string{"clientid", "userid"} {
			if args[filter] && tool.Scope.ClientArg == "" {
				t.Errorf("%s filters by %s: declare Scope.ClientArg (and Scope.Empty)", name, filter)
			}
		}
		if tool.Scope.ClientArg != "" && tool.Scope.Empty == nil {
			t.Errorf("%s: declare Scope.Empty, the answer for a client that does not exist", name)
		}
		if tool.Kind == Write && tool.Scope.Record == nil {
			t.Errorf("%s writes: declare Scope.Record, the argument that selects the record and how to read its owner", name)
		}
		if tool.Kind == Write && name != "upgrade_product" && tool.Effects == nil {
			t.Errorf("%s writes: declare Effects, what each argument changes", name)
		}
		checkDeclared(t, tool, args)
		for field, effect := range tool.Effects {
			if !args[field] {
				t.Errorf("%s: Effects names %q, which is not an argument", name, field)
			}
			if !strings.Contains(strings.Join(Effects, " "), effect) {
				t.Errorf("%s: %s has the unknown effect %q", name, field, effect)
			}
		}
	}
}

// checkDeclared fails when a write's argument that names something WHMCS
// lists is not declared in its Checks, or Checks names an argument the tool
// does not have.
func checkDeclared(t *testing.T, tool Tool, args map[string]bool) {
	t.Helper()
	ch := tool.Checks
	if tool.Kind == Write {
		for arg, declared := range map[string]bool{
			"paymentmethod": ch.PaymentMethod == "paymentmethod",
			"pid":           slices.Contains(ch.Products, "pid"),
			"newproductid":  slices.Contains(ch.Products, "newproductid"),
			"customfields":  ch.CustomFields == "customfields",
			"configoptions": ch.ConfigOptions == "configoptions",
		} {
			if args[arg] && !declared {
				t.Errorf("%s takes %s: declare it in Checks, to be checked against what WHMCS lists", tool.Name, arg)
			}
		}
	}
	named := append([]string{ch.PaymentMethod, ch.Service, ch.CustomFields, ch.ConfigOptions}, ch.Products...)
	for _, arg := range named {
		if arg != "" && !args[arg] {
			t.Errorf("%s: Checks names %q, which is not an argument", tool.Name, arg)
		}
	}
	if (ch.CustomFields != "" || ch.ConfigOptions != "") && ch.Service == "" {
		t.Errorf("%s: Checks needs Service, the argument that selects the service whose product's fields and options apply", tool.Name)
	}
	if ch.ConfigOptions != "" && ch.ConfigValues == 0 {
		t.Errorf("%s: Checks needs ConfigValues, how %s takes configurable option values", tool.Name, tool.Action)
	}
}

// TestToolNamesAreDeclaredOnce: outside tests (and the bench), a tool's name
// is written as a string in one Go file only, its declaration; everything
// else derives it from All.
func TestToolNamesAreDeclaredOnce(t *testing.T) {
	names := map[string]bool{}
	for _, tool := range All(nil) {
		names[tool.Name] = true
	}
	files := map[string][]string{}
	root := filepath.Join("..")
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "bench" || d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				if s, err := strconv.Unquote(lit.Value); err == nil && names[s] && !slices.Contains(files[s], path) {
					files[s] = append(files[s], path)
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for name, in := range files {
		if len(in) > 1 {
			t.Errorf("%q is written in %d files (%s): declare it once, in the tool's Spec, and derive it from All elsewhere", name, len(in), strings.Join(in, ", "))
		}
	}
}

// TestEveryToolsActionIsInTheSandbox: a new tool needs its WHMCS action in
// the sandbox, where every test and newcomer meets it.
func TestEveryToolsActionIsInTheSandbox(t *testing.T) {
	_, baseURL := newSandboxDeps(t)
	for _, tool := range All(nil) {
		form := url.Values{"action": {tool.Action}, "identifier": {sandbox.DefaultIdentifier}, "secret": {sandbox.DefaultSecret}, "responsetype": {"json"}}
		resp, err := http.PostForm(baseURL+"/includes/api.php", form)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.Contains(string(body), "Command Not Found") {
			t.Errorf("%s: the sandbox does not implement %s (whmcs/sandbox)", tool.Name, tool.Action)
		}
	}
}

// TestAScopedReadCannotForgetTheScope registers reads that call no scope
// helper: one that declares its client filter, one that declares nothing.
// A caller scoped to client 2 still sees only client 2's records.
func TestAScopedReadCannotForgetTheScope(t *testing.T) {
	deps, _ := newSandboxDeps(t)
	deps.Gate = &scopedGate{clients: []int{2}}
	list := func(ctx context.Context, _ mcp.CallToolRequest, args *ClientsProductsArgs) (any, error) {
		resp, err := deps.WHMCS.GetClientsProducts(ctx, args.GetClientsProductsRequest) // no scope helper here
		if err != nil {
			return nil, err
		}
		var services []Service
		for _, p := range resp.Products {
			services = append(services, serviceOf(p))
		}
		return &ClientsProductsResult{Total: int(resp.TotalResults), Returned: len(services), Products: services}, nil
	}
	declared := GetClientsProducts(nil).Spec // a read with a client filter, its scope declared
	undeclared := declared
	undeclared.Scope = Scope{}

	var page ClientsProductsResult
	res := callHandler(t, Tool{Spec: declared, Handler: handle(declared, deps, list)}, `{}`)
	if err := json.Unmarshal([]byte(resultText(res)), &page); err != nil || page.Returned == 0 {
		t.Fatalf("a read with a declared client filter: %s", resultText(res))
	}
	for _, s := range page.Products {
		if s.ClientID != 2 {
			t.Errorf("saw service %d of client %d", s.ID, s.ClientID)
		}
	}
	res = callHandler(t, Tool{Spec: undeclared, Handler: handle(undeclared, deps, list)}, `{}`)
	if !res.IsError || strings.Contains(resultText(res), `"clientid"`) {
		t.Errorf("a read that declares no scope returned other clients' records: %s", resultText(res))
	}
}
