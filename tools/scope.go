package tools

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/whmcs-mcp/whmcs-mcp/whmcs"
)

// Scope declares how a tool's calls are kept to the clients a caller may
// see. The shared handler path enforces it for every tool, before the tool's
// own code runs, so a tool cannot forget it:
//   - ClientArg, the argument that filters by client: a caller scoped to
//     one client gets it filled in; a client outside the scope gets Empty,
//     the answer WHMCS gives for a client that does not exist;
//   - Record, the argument that selects one record: its owner is read from
//     WHMCS, and a record outside the scope gets the same error as an id
//     that does not exist;
//   - and whatever a scoped caller's result holds, every "clientid" and
//     "userid" in it must be in scope, or the result is withheld.
type Scope struct {
	ClientArg string
	Empty     any
	Record    *Record
}

// Record is an argument that selects one client-owned record.
type Record struct {
	// Arg names the argument.
	Arg string
	// Owner returns the id of the client that owns record id, or NotFound's
	// error when WHMCS has no such record.
	Owner func(ctx context.Context, c *whmcs.Client, id int) (int, error)
	// NotFound is WHMCS's message for an id that does not exist, e.g.
	// "Service ID Not Found".
	NotFound string
}

// notFound is the error of a record that does not exist, or that the caller
// may not see: the two are told apart by nobody but the audit log.
func (r *Record) notFound(tool string) error {
	return &whmcs.APIError{Action: tool, Message: r.NotFound}
}

// scopeDecision is what the shared path decided about a call's scope.
type scopeDecision struct {
	args   json.RawMessage // the arguments, with the client filter filled in
	answer any             // set when the call is answered without running
	err    error           // set when the call is refused
}

// enforceScope applies spec's Scope for the caller of ctx to raw arguments
// that passed schema validation.
func enforceScope(ctx context.Context, spec *Spec, deps *Deps, raw json.RawMessage) scopeDecision {
	clients := deps.Gate.Scope(ctx)
	if len(clients) == 0 {
		return scopeDecision{args: raw}
	}
	args := map[string]json.RawMessage{}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &args); err != nil {
			return scopeDecision{err: fmt.Errorf("arguments: %v", err)}
		}
	}
	refuse := func(reason string) {
		deps.Gate.Refused(ctx, spec.Name, raw, reason)
	}
	if name := spec.Scope.ClientArg; name != "" {
		given, ok := args[name]
		switch id, err := strconv.Atoi(string(given)); {
		case !ok && len(clients) == 1:
			args[name] = json.RawMessage(strconv.Itoa(clients[0]))
		case !ok:
			return scopeDecision{err: fmt.Errorf("%s is required: you may see clients %s", name, joinInts(clients))}
		case err != nil || !slices.Contains(clients, id):
			refuse(fmt.Sprintf("%s %s is outside the caller's clients; answered as a client with no records", name, given))
			return scopeDecision{answer: spec.Scope.Empty}
		}
	}
	if rec := spec.Scope.Record; rec != nil {
		id, err := strconv.Atoi(string(args[rec.Arg]))
		if err != nil {
			return scopeDecision{err: fmt.Errorf("argument %q: expected an id", rec.Arg)}
		}
		owner, err := rec.Owner(ctx, deps.WHMCS, id)
		if err != nil {
			refuse(fmt.Sprintf("reading the owner of %s %d: %v", rec.Arg, id, err))
			return scopeDecision{err: err}
		}
		if !slices.Contains(clients, owner) {
			refuse(fmt.Sprintf("%s %d belongs to client #%d, outside the caller's clients; answered as not found", rec.Arg, id, owner))
			return scopeDecision{err: rec.notFound(spec.Name)}
		}
	}
	out, err := json.Marshal(args)
	if err != nil {
		return scopeDecision{err: err}
	}
	return scopeDecision{args: out}
}

// outsideScope reports whether a result's "clientid" or "userid" fields name
// a client that is not one of clients (or are not ids at all).
func outsideScope(result json.RawMessage, clients []int) bool {
	var v any
	dec := json.NewDecoder(strings.NewReader(string(result)))
	dec.UseNumber()
	if dec.Decode(&v) != nil {
		return true
	}
	var outside func(v any) bool
	outside = func(v any) bool {
		switch t := v.(type) {
		case map[string]any:
			for k, child := range t {
				if k == "clientid" || k == "userid" {
					n, _ := child.(json.Number)
					id, err := strconv.Atoi(string(n))
					if err != nil || !slices.Contains(clients, id) {
						return true
					}
				} else if outside(child) {
					return true
				}
			}
		case []any:
			return slices.ContainsFunc(t, outside)
		}
		return false
	}
	return outside(v)
}

// serviceOwner reads the client that owns a service.
func serviceOwner(ctx context.Context, c *whmcs.Client, id int) (int, error) {
	resp, err := c.GetClientsProducts(ctx, whmcs.GetClientsProductsRequest{ServiceID: &id})
	if err != nil {
		return 0, err
	}
	for _, p := range resp.Products {
		if int(p.ID) == id {
			return int(p.ClientID), nil
		}
	}
	return 0, &whmcs.APIError{Action: "GetClientsProducts", Message: serviceNotFound}
}

// addonOwner reads the client that owns a client addon.
func addonOwner(ctx context.Context, c *whmcs.Client, id int) (int, error) {
	addon, err := findAddon(ctx, c, id)
	if err != nil {
		return 0, err
	}
	return int(addon.UserID), nil
}

// WHMCS's messages for a service and a client addon that do not exist.
const (
	serviceNotFound = "Service ID Not Found"
	addonNotFound   = "Addon ID Not Found"
)

// serviceRecord and addonRecord are the records the write tools select.
var (
	serviceRecord = &Record{Arg: "serviceid", Owner: serviceOwner, NotFound: serviceNotFound}
	addonRecord   = &Record{Arg: "id", Owner: addonOwner, NotFound: addonNotFound}
)

func joinInts(ids []int) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.Itoa(id)
	}
	return strings.Join(parts, ", ")
}
