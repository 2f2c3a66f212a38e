package mcpserver

// The invariant behind every trust test, as a property: whatever write calls
// a model makes (any fields, values, unset, autorecalc, configoptions,
// addons and upgrades, with or without tokens from earlier previews and
// quotes, replayed or not), under every confirmation mode, from clients that
// can and cannot ask their user, no guarded effect in WHMCS changes without
// the confirmation the mode demands. The sandbox's database is read before
// and after each call.

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/whmcs-mcp/whmcs-mcp/policy"
)

// picker chooses among n possibilities: seeded randomness in go test, the
// fuzzer's bytes in FuzzGuardedWrites.
type picker interface{ pick(n int) int }

type randPicker struct{ r *rand.Rand }

func (p randPicker) pick(n int) int { return p.r.IntN(n) }

// bytesPicker reads choices from data, then always picks 0.
type bytesPicker struct{ data []byte }

func (p *bytesPicker) pick(n int) int {
	if len(p.data) == 0 {
		return 0
	}
	b := p.data[0]
	p.data = p.data[1:]
	return int(b) % n
}

func oneOf[T any](p picker, values ...T) T { return values[p.pick(len(values))] }

// guardedColumns are the columns that hold each guarded effect, and the
// tables that grow when an upgrade is placed.
var guardedColumns = map[string][]string{
	"status":       {"SELECT id, domainstatus FROM tblhosting", "SELECT id, status FROM tblhostingaddons"},
	"product":      {"SELECT id, packageid FROM tblhosting", "SELECT relid, configid, optionid, qty FROM tblhostingconfigoptions", "SELECT id, addonid FROM tblhostingaddons"},
	"price":        {"SELECT id, amount, firstpaymentamount, promoid FROM tblhosting", "SELECT id, setupfee, recurring FROM tblhostingaddons"},
	"billingcycle": {"SELECT id, billingcycle FROM tblhosting", "SELECT id, billingcycle FROM tblhostingaddons"},
	"dates":        {"SELECT id, nextduedate, termination_date FROM tblhosting", "SELECT id, nextduedate, termination_date FROM tblhostingaddons"},
	"suspension":   {"SELECT id, overideautosuspend, overidesuspenduntil FROM tblhosting"},
	"upgrades":     {"SELECT count(*) FROM tblupgrades", "SELECT count(*) FROM tblorders", "SELECT count(*) FROM tblinvoices"},
}

// snapshot reads the guarded effects' columns, ordered, as text.
func snapshot(t testing.TB, db *sql.DB, effects []string) string {
	t.Helper()
	var b strings.Builder
	for _, effect := range effects {
		for _, query := range guardedColumns[effect] {
			if !strings.Contains(query, "count(") {
				query += " ORDER BY 1, 2"
			}
			rows, err := db.Query(query)
			if err != nil {
				t.Fatal(err)
			}
			cols, _ := rows.Columns()
			for rows.Next() {
				vals := make([]any, len(cols))
				ptrs := make([]any, len(cols))
				for i := range vals {
					ptrs[i] = &vals[i]
				}
				if err := rows.Scan(ptrs...); err != nil {
					t.Fatal(err)
				}
				fmt.Fprintf(&b, "%s %v\n", effect, vals)
			}
			rows.Close()
		}
	}
	return b.String()
}

// scriptedAsker answers elicitation as the test decides for each call, and
// says whether it was asked and what it answered.
type scriptedAsker struct {
	mu       sync.Mutex
	accept   bool
	asked    int
	accepted int
}

func (a *scriptedAsker) Elicit(context.Context, mcp.ElicitationRequest) (*mcp.ElicitationResult, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.asked++
	if a.accept {
		a.accepted++
		return &mcp.ElicitationResult{ElicitationResponse: mcp.ElicitationResponse{Action: mcp.ElicitationResponseActionAccept, Content: map[string]any{"confirm": true}}}, nil
	}
	return &mcp.ElicitationResult{ElicitationResponse: mcp.ElicitationResponse{Action: mcp.ElicitationResponseActionDecline}}, nil
}

// issued is a token some result handed out, with the call it was for.
type issued struct {
	token string
	tool  string
	args  map[string]any // calconly and confirmation_token left out
}

func (it issued) key() string { return callKey(it.tool, it.args) }

// callKey names a call for the tokens it may be confirmed with.
func callKey(tool string, args map[string]any) string {
	b, _ := json.Marshal(bare(args))
	return tool + " " + string(b)
}

// bare returns a copy of args without calconly and confirmation_token.
func bare(args map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range args {
		if k != "calconly" && k != "confirmation_token" {
			out[k] = v
		}
	}
	return out
}

// randomCall makes up a write call.
func randomCall(p picker) (string, map[string]any) {
	date := func() string { return oneOf(p, "2025-01-01", "2026-12-31", "2027-06-15") }
	some := func(fields map[string]func() any) map[string]any {
		out := map[string]any{}
		names := slices.Sorted(func(yield func(string) bool) {
			for k := range fields {
				if !yield(k) {
					return
				}
			}
		})
		for n := 1 + p.pick(3); n > 0; n-- {
			name := names[p.pick(len(names))]
			out[name] = fields[name]()
		}
		return out
	}
	switch p.pick(3) {
	case 0:
		args := some(map[string]func() any{
			"status":              func() any { return oneOf(p, "Active", "Suspended", "Terminated", "Cancelled", "Fraud", "Pending") },
			"pid":                 func() any { return 1 + p.pick(7) },
			"recurringamount":     func() any { return oneOf(p, 0.0, 9.99, 24.95) },
			"firstpaymentamount":  func() any { return oneOf(p, 0.0, 5.0) },
			"nextduedate":         func() any { return date() },
			"terminationdate":     func() any { return date() },
			"billingcycle":        func() any { return oneOf(p, "Monthly", "Annually", "Quarterly") },
			"overideautosuspend":  func() any { return oneOf(p, "on", "off") },
			"overidesuspenduntil": func() any { return date() },
			"promoid":             func() any { return p.pick(2) },
			"autorecalc":          func() any { return p.pick(2) == 0 },
			"configoptions": func() any {
				return oneOf(p, map[string]any{"1": 2}, map[string]any{"1": 1}, map[string]any{"2": 4}, map[string]any{"2": 5},
					map[string]any{"5": 9}, map[string]any{"3": map[string]any{"optionid": 6, "qty": 3}}, map[string]any{"4": 1 + p.pick(10)})
			},
			"unset":  func() any { return []string{oneOf(p, "notes", "domain", "ns1", "suspendreason")} },
			"notes":  func() any { return oneOf(p, "", "note", "line\nbreak") },
			"domain": func() any { return oneOf(p, "example.com", "x.example") },
		})
		args["serviceid"] = oneOf(p, 2, 4, 7, 9, 1+p.pick(9)) // 2, 4, 7 and 9 have configurable options
		return "update_client_product", args
	case 1:
		args := some(map[string]func() any{
			"status":          func() any { return oneOf(p, "Active", "Suspended", "Terminated", "Cancelled") },
			"addonid":         func() any { return 1 + p.pick(4) },
			"recurring":       func() any { return oneOf(p, 0.0, 4.99, 36.0) },
			"setupfee":        func() any { return oneOf(p, 0.0, 5.0) },
			"billingcycle":    func() any { return oneOf(p, "Monthly", "Annually") },
			"nextduedate":     func() any { return date() },
			"terminationdate": func() any { return date() },
			"autorecalc":      func() any { return p.pick(2) == 0 },
			"notes":           func() any { return oneOf(p, "n", "m") },
			"name":            func() any { return oneOf(p, "SSL", "Mail") },
		})
		args["id"] = 1 + p.pick(8)
		return "update_client_addon", args
	}
	args := map[string]any{"serviceid": 1 + p.pick(9), "paymentmethod": "paypal", "type": "product",
		"newproductid": 1 + p.pick(7), "newproductbillingcycle": oneOf(p, "monthly", "annually")}
	if p.pick(2) == 0 {
		args["calconly"] = true
	}
	return "upgrade_product", args
}

// guardConfigs are the guarded effects of the policies tried: the defaults,
// and status only (upgrades are always guarded).
var guardConfigs = map[string][]string{
	"every effect": policy.DefaultGuardedFields,
	"status only":  {},
}

// runInvariant makes steps random write calls against one server with the
// given confirmation mode and guarded effects, and fails on any change to a
// guarded effect the mode did not let through. It returns how many calls
// changed a guarded effect with the confirmation the mode demands.
func runInvariant(t *testing.T, p picker, mode string, guarded []string, steps int) int {
	t.Helper()
	w := newTrustWorld(t)
	file := policy.Default()
	file.Confirmation = mode
	file.GuardedFields = guarded
	file.AllowedStatuses = nil // every status may be set, with a confirmation
	limit := 1000.0
	file.MaxUpgradePrice = &limit
	srv := w.server(file)
	asker := &scriptedAsker{}
	clients := map[bool]*client.Client{ // by whether the client can ask its user
		false: w.connectWith(srv),
		true:  w.connectWith(srv, client.WithElicitationHandler(asker)),
	}
	effects := append([]string{"status", "upgrades"}, guarded...)

	var pool []issued
	spent := map[string]bool{}
	confirmed := 0
	for step := range steps {
		tool, args := randomCall(p)
		canElicit := p.pick(2) == 0
		asker.mu.Lock()
		asker.accept = p.pick(2) == 0
		askedBefore, acceptedBefore := asker.asked, asker.accepted
		asker.mu.Unlock()

		var token issued
		switch p.pick(5) {
		case 0, 1: // a fresh call without a token
		case 2: // a fresh call with a token from an earlier result
			if len(pool) > 0 {
				token = pool[p.pick(len(pool))]
			}
		case 3: // an earlier preview's call again, with its token: a confirmation, or a replay
			if len(pool) > 0 {
				token = pool[p.pick(len(pool))]
				tool, args = token.tool, bare(token.args)
			}
		case 4: // an earlier preview's token with its call changed
			if len(pool) > 0 {
				token = pool[p.pick(len(pool))]
				var other map[string]any
				tool, other = randomCall(p)
				args = bare(token.args)
				for k, v := range other {
					if k != "serviceid" && k != "id" {
						args[k] = v
					}
				}
			}
		}
		if token.token != "" {
			args["confirmation_token"] = token.token
		}

		before := snapshot(t, w.sb.DB(), effects)
		req := mcp.CallToolRequest{}
		req.Params.Name = tool
		req.Params.Arguments = args
		res, err := clients[canElicit].CallTool(context.Background(), req)
		if err != nil {
			t.Fatalf("step %d %s %v: %v", step, tool, args, err)
		}
		after := snapshot(t, w.sb.DB(), effects)

		var text string
		for _, c := range res.Content {
			if tc, ok := c.(mcp.TextContent); ok {
				text += tc.Text
			}
		}
		var out struct {
			Token string `json:"confirmation_token"`
		}
		json.Unmarshal([]byte(text), &out)
		if out.Token != "" {
			pool = append(pool, issued{token: out.Token, tool: tool, args: bare(args)})
		}

		asker.mu.Lock()
		userAccepted := asker.accepted > acceptedBefore && asker.asked > askedBefore
		asker.mu.Unlock()
		tokensConfirm := mode == policy.ConfirmToken || (mode == policy.ConfirmAuto && !canElicit)
		byUser := userAccepted && canElicit && mode != policy.ConfirmToken
		byToken := token.token != "" && token.key() == callKey(tool, args) && tokensConfirm && !spent[token.token]
		if before != after && (byUser || byToken) {
			confirmed++
		}
		if before != after && byToken {
			spent[token.token] = true // it confirmed a change: never again
		}
		if before != after && !byUser && !byToken {
			t.Fatalf("step %d, %s mode, client that can elicit: %v: %s %v changed a guarded effect without the confirmation the mode demands\nresult: %s\nbefore:\n%s\nafter:\n%s",
				step, mode, canElicit, tool, args, text, before, after)
		}
	}
	return confirmed
}

func TestNoGuardedChangeWithoutTheConfirmationTheModeDemands(t *testing.T) {
	steps := 150
	if testing.Short() {
		steps = 15
	}
	seed := uint64(1)
	for _, mode := range policy.ConfirmationValues {
		for name, guarded := range guardConfigs {
			seed++
			t.Run(mode+"/"+name, func(t *testing.T) {
				confirmed := runInvariant(t, randPicker{rand.New(rand.NewPCG(seed, 0x5eed))}, mode, guarded, steps)
				// The calls must reach WHMCS's guarded effects at all, or
				// the property holds for want of trying.
				if confirmed == 0 {
					t.Errorf("no call of %d changed a guarded effect with a confirmation", steps)
				}
				t.Logf("%d of %d calls changed a guarded effect, confirmed", confirmed, steps)
			})
		}
	}
}

// FuzzGuardedWrites is the invariant driven by the fuzzer's bytes: run it
// longer with go test ./internal/mcpserver -run '^$' -fuzz FuzzGuardedWrites.
func FuzzGuardedWrites(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9})
	f.Add([]byte{2, 0, 3, 1, 0, 3, 3, 1, 1, 2, 0, 3, 1, 0, 3, 3, 1, 1})
	f.Add([]byte("token replay status Suspended upgrade quote autorecalc"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p := &bytesPicker{data: data}
		mode := oneOf(p, policy.ConfirmationValues...)
		guarded := oneOf(p, policy.DefaultGuardedFields, []string{})
		runInvariant(t, p, mode, guarded, 12)
	})
}
