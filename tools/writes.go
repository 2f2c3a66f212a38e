package tools

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/invopop/jsonschema"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/whmcs-mcp/whmcs-mcp/whmcs"
)

// The statuses of a write tool's result.
const (
	StatusDone                 = "done"
	StatusConfirmationRequired = "confirmation_required"
	StatusDeclined             = "declined"
	StatusUnchanged            = "unchanged"
	StatusQuote                = "quote"
	// StatusApprovalRequired: nothing changed; a member of staff must
	// approve the change on the approval pages first.
	StatusApprovalRequired = "approval_required"
	// StatusPending: the approval request waits for a decision.
	StatusPending = "pending"
	// StatusRejected: a member of staff rejected the change.
	StatusRejected = "rejected"
	// StatusExpired: nobody decided in time.
	StatusExpired = "expired"
)

// WriteStatus is the part every write tool's result shares.
type WriteStatus struct {
	Message           string   `json:"message,omitempty" jsonschema_description:"What to do next, in one plain sentence: read it first."`
	Status            string   `json:"status" jsonschema:"required,enum=done,enum=confirmation_required,enum=declined,enum=unchanged,enum=quote,enum=approval_required,enum=pending,enum=rejected,enum=expired" jsonschema_description:"done: WHMCS carried out the change. confirmation_required: nothing changed yet; show the preview to the user and, only if they agree, call again with the same arguments plus confirmation_token. declined: the user did not confirm; nothing changed. unchanged: every field already holds the value asked for; nothing was written. quote: WHMCS's price for the upgrade; nothing changed. approval_required: nothing changed; a member of staff must approve it at approval_url, then call again with the same arguments plus approval_id. pending: not decided yet. rejected: a member of staff refused it (see reason); nothing changed. expired: nobody decided in time; nothing changed."`
	Preview           *Preview `json:"preview,omitempty" jsonschema_description:"What the change would do, read from WHMCS."`
	ConfirmationToken string   `json:"confirmation_token,omitempty" jsonschema_description:"Single-use token that confirms exactly this change, for this caller."`
	ApprovalID        string   `json:"approval_id,omitempty" jsonschema_description:"The approval request: send it back with the same arguments to learn its decision and, once approved, to carry out the change."`
	ApprovalURL       string   `json:"approval_url,omitempty" jsonschema_description:"The page where a member of staff approves or rejects the change."`
	Reason            string   `json:"reason,omitempty" jsonschema_description:"Why the change was rejected, in the approver's words."`
	ExpiresAt         string   `json:"expires_at,omitempty" jsonschema_description:"When the token or the approval request expires (RFC 3339)."`
}

// Confirmation is what a write tool's call may carry back from an earlier
// result of the same call: a confirmation token or an approval id.
type Confirmation struct {
	ConfirmationToken string `json:"confirmation_token,omitempty" jsonschema_description:"Token from a confirmation_required result, to carry out that exact change."`
	ApprovalID        string `json:"approval_id,omitempty" jsonschema_description:"Id from an approval_required result, to learn whether a member of staff approved that exact change and, once approved, to carry it out."`
}

// Preview describes a guarded change before it happens.
type Preview struct {
	Summary string            `json:"summary" jsonschema_description:"The change in plain words."`
	Changes map[string]Change `json:"changes,omitempty" jsonschema_description:"Each field the change sets, from its current value to the new one."`
	Quote   *Quote            `json:"quote,omitempty" jsonschema_description:"WHMCS's upgrade quote."`
}

// Change is one field's current and proposed value.
type Change struct {
	From any `json:"from" jsonschema_description:"Current value (null when unset)."`
	To   any `json:"to" jsonschema_description:"Proposed value."`
}

// JSONSchemaExtend types from and to as scalars (any would reflect to the bare
// schema true, which some hosts reject).
func (Change) JSONSchemaExtend(s *jsonschema.Schema) {
	for _, name := range []string{"from", "to"} {
		if p, ok := s.Properties.Get(name); ok {
			p.Type = ""
			p.AnyOf = scalarSchemas()
		}
	}
}

func scalarSchemas() []*jsonschema.Schema {
	return []*jsonschema.Schema{{Type: "string"}, {Type: "number"}, {Type: "boolean"}, {Type: "array"}, {Type: "null"}}
}

// Quote is WHMCS's calconly quote of an upgrade.
type Quote struct {
	ServiceID        int     `json:"serviceid" jsonschema_description:"Service to upgrade."`
	OldProductID     int     `json:"oldproductid,omitempty" jsonschema_description:"Current product id."`
	OldProductName   string  `json:"oldproductname,omitempty" jsonschema_description:"Current product name."`
	NewProductID     int     `json:"newproductid,omitempty" jsonschema_description:"New product id."`
	NewProductName   string  `json:"newproductname,omitempty" jsonschema_description:"New product name."`
	BillingCycle     string  `json:"billingcycle,omitempty" jsonschema_description:"New billing cycle."`
	DaysUntilRenewal int     `json:"daysuntilrenewal" jsonschema_description:"Days left until the service renews."`
	TotalDays        int     `json:"totaldays" jsonschema_description:"Days in the billing cycle."`
	Price            string  `json:"price" jsonschema_description:"Prorated price as WHMCS formats it, e.g. $-8.67 USD."`
	Amount           float64 `json:"amount" jsonschema_description:"Prorated price as a number; negative is a credit."`
}

// Summary states the quote in plain words; service names the service, e.g.
// "service #3 Pro (example.com) of client #2".
func (q *Quote) Summary(service string) string {
	return fmt.Sprintf("Upgrade %s from %s (#%d) to %s (#%d), %s, for %s (%d of %d days left in the cycle).",
		Clean(service), Clean(q.OldProductName), q.OldProductID, Clean(q.NewProductName), q.NewProductID, Clean(q.BillingCycle), Clean(q.Price), q.DaysUntilRenewal, q.TotalDays)
}

// UpdateClientProductArgs are update_client_product's arguments.
type UpdateClientProductArgs struct {
	whmcs.UpdateClientProductRequest
	Confirmation
}

// JSONSchemaExtend describes the values of customfields and configoptions.
func (UpdateClientProductArgs) JSONSchemaExtend(s *jsonschema.Schema) {
	if p, ok := s.Properties.Get("customfields"); ok {
		p.AdditionalProperties = &jsonschema.Schema{Type: "string"}
	}
	if p, ok := s.Properties.Get("configoptions"); ok {
		choice := &jsonschema.Schema{Type: "object", AdditionalProperties: jsonschema.FalseSchema, Required: []string{"optionid"}, Properties: jsonschema.NewProperties()}
		choice.Properties.Set("optionid", &jsonschema.Schema{Type: "integer", Description: "Option choice id."})
		choice.Properties.Set("qty", &jsonschema.Schema{Type: "integer", Minimum: json.Number("0"), Description: "Quantity."})
		p.AdditionalProperties = &jsonschema.Schema{AnyOf: []*jsonschema.Schema{{Type: "integer"}, choice}}
		p.Description = "Configurable options by option id (see get_products): a choice id for dropdown and radio options, " +
			"or {\"optionid\": choice id, \"qty\": N}, which quantity and yes/no options need (yes/no: qty 1 yes, 0 no)."
	}
}

// UpdateClientProductResult is update_client_product's result.
type UpdateClientProductResult struct {
	WriteStatus
	ServiceID whmcs.Int `json:"serviceid,omitzero" jsonschema_description:"The updated service (when done)."`
}

// serviceFieldNames maps the names GetClientsProducts gives a service's
// fields to update_client_product's arguments, where they differ.
var serviceFieldNames = map[string]string{
	"username":         "serviceusername",
	"password":         "servicepassword",
	"suspensionreason": "suspendreason",
}

// UpdateClientProduct is the update_client_product tool.
func UpdateClientProduct(deps *Deps) Tool {
	spec := Spec{
		Name:    "update_client_product",
		Action:  "UpdateClientProduct",
		Summary: "guarded when it can change status, product, price, cycle, dates or suspension",
		Description: "Change fields of a client service (status, product, price, billing cycle, dates, notes, custom fields...). " +
			"A change to its status, product, price, cycle, dates or suspension changes nothing at first: it returns a preview, " +
			"and only a person's confirmation carries it out. Show the preview; never confirm on your own initiative.",
		Kind: Write, Destructive: true, Idempotent: true,
		Args:    &UpdateClientProductArgs{},
		Result:  &UpdateClientProductResult{},
		Scope:   Scope{Record: serviceRecord},
		Effects: serviceEffects,
		Checks: Checks{PaymentMethod: "paymentmethod", Products: []string{"pid"}, Service: "serviceid",
			CustomFields: "customfields", ConfigOptions: "configoptions", ConfigValues: ChoiceOrSelection},
		Probe: Probe{NotFound: serviceNotFound, Run: func(ctx context.Context, c *whmcs.Client) error {
			_, err := c.UpdateClientProduct(ctx, whmcs.UpdateClientProductRequest{ServiceID: 0})
			return err
		}},
	}
	return Tool{Spec: spec, Handler: handle(spec, deps, func(ctx context.Context, req mcp.CallToolRequest, args *UpdateClientProductArgs) (any, error) {
		call := args.UpdateClientProductRequest
		changes := changesOf(call)
		delete(changes, "serviceid")
		if len(changes) == 0 {
			return nil, fmt.Errorf("nothing to update: give at least one field besides serviceid")
		}
		return deps.Gate.Run(ctx, &Operation{
			Kind: OpUpdate, Tool: spec.Name, Request: req, Args: call, Confirmation: args.Confirmation,
			Changes: changes, Fields: touched(changes), Effects: spec.Effects, PriceField: "recurringamount",
			ReadBack: serviceReadBack(call.ServiceID),
			Subject: func(ctx context.Context) (*Subject, error) {
				return serviceSubject(ctx, deps.WHMCS, call.ServiceID)
			},
			Execute: func(ctx context.Context) (any, error) {
				resp, err := deps.WHMCS.UpdateClientProduct(ctx, call)
				if err != nil {
					return nil, err
				}
				return &UpdateClientProductResult{WriteStatus: WriteStatus{Status: StatusDone}, ServiceID: resp.ServiceID}, nil
			},
		})
	})}
}

// serviceSubject reads a service and its current values, by
// update_client_product's argument names.
func serviceSubject(ctx context.Context, c *whmcs.Client, serviceID int) (*Subject, error) {
	resp, err := c.GetClientsProducts(ctx, whmcs.GetClientsProductsRequest{ServiceID: &serviceID})
	if err != nil {
		return nil, err
	}
	if len(resp.Products) == 0 || int(resp.Products[0].ID) != serviceID {
		return nil, &whmcs.APIError{Action: "GetClientsProducts", Message: serviceNotFound}
	}
	p := resp.Products[0]
	values := changesOf(p)
	for from, to := range serviceFieldNames {
		if v, ok := values[from]; ok {
			values[to] = v
			delete(values, from)
		}
	}
	label := fmt.Sprintf("service #%d %s", int(p.ID), p.Name)
	if p.Domain != "" {
		label += fmt.Sprintf(" (%s)", p.Domain)
	}
	return &Subject{ClientID: int(p.ClientID), Label: label + fmt.Sprintf(" of client #%d", int(p.ClientID)), Values: values}, nil
}

// UpdateClientAddonArgs are update_client_addon's arguments.
type UpdateClientAddonArgs struct {
	whmcs.UpdateClientAddonRequest
	Confirmation
}

// UpdateClientAddonResult is update_client_addon's result.
type UpdateClientAddonResult struct {
	WriteStatus
	ID whmcs.Int `json:"id,omitzero" jsonschema_description:"The updated addon (when done)."`
}

// UpdateClientAddon is the update_client_addon tool.
func UpdateClientAddon(deps *Deps) Tool {
	spec := Spec{
		Name:    "update_client_addon",
		Action:  "UpdateClientAddon",
		Summary: "guarded the same way",
		Description: "Change a client addon (status, addon, amounts, billing cycle, dates, name, notes); its id comes from get_clients_addons. " +
			"A change to its status, addon, price, cycle or dates changes nothing at first: it returns a preview, " +
			"and only a person's confirmation carries it out. Show the preview; never confirm on your own initiative.",
		Kind: Write, Destructive: true, Idempotent: true,
		Args:    &UpdateClientAddonArgs{},
		Result:  &UpdateClientAddonResult{},
		Scope:   Scope{Record: addonRecord},
		Effects: addonEffects,
		Probe: Probe{NotFound: addonNotFound, Run: func(ctx context.Context, c *whmcs.Client) error {
			_, err := c.UpdateClientAddon(ctx, whmcs.UpdateClientAddonRequest{ID: 0})
			return err
		}},
	}
	return Tool{Spec: spec, Handler: handle(spec, deps, func(ctx context.Context, req mcp.CallToolRequest, args *UpdateClientAddonArgs) (any, error) {
		call := args.UpdateClientAddonRequest
		changes := changesOf(call)
		delete(changes, "id")
		return deps.Gate.Run(ctx, &Operation{
			Kind: OpUpdate, Tool: spec.Name, Request: req, Args: call, Confirmation: args.Confirmation,
			Changes: changes, Fields: touched(changes), Effects: spec.Effects, PriceField: "recurring",
			ReadBack: fmt.Sprintf("the addon back with %s (client addon id %d)", nameGetClientsAddons, call.ID),
			Subject: func(ctx context.Context) (*Subject, error) {
				a, err := findAddon(ctx, deps.WHMCS, call.ID)
				if err != nil {
					return nil, err
				}
				label := fmt.Sprintf("addon #%d %s on service #%d of client #%d", int(a.ID), a.Name, int(a.ServiceID), int(a.UserID))
				return &Subject{ClientID: int(a.UserID), Label: label, Values: changesOf(a)}, nil
			},
			Execute: func(ctx context.Context) (any, error) {
				resp, err := deps.WHMCS.UpdateClientAddon(ctx, call)
				if err != nil {
					return nil, err
				}
				return &UpdateClientAddonResult{WriteStatus: WriteStatus{Status: StatusDone}, ID: resp.ID}, nil
			},
		})
	})}
}

// findAddon reads a client addon by id. GetClientsAddons has no filter by
// client addon id, so it reads the addons and picks the one.
func findAddon(ctx context.Context, c *whmcs.Client, id int) (*whmcs.ClientAddon, error) {
	resp, err := c.GetClientsAddons(ctx, whmcs.GetClientsAddonsRequest{})
	if err != nil {
		return nil, err
	}
	for _, a := range resp.Addons {
		if int(a.ID) == id {
			return &a, nil
		}
	}
	return nil, &whmcs.APIError{Action: "GetClientsAddons", Message: addonNotFound}
}

// UpgradeProductArgs are upgrade_product's arguments.
type UpgradeProductArgs struct {
	whmcs.UpgradeProductRequest
	Confirmation
}

// JSONSchemaExtend describes the values of configoptions.
func (UpgradeProductArgs) JSONSchemaExtend(s *jsonschema.Schema) {
	if p, ok := s.Properties.Get("configoptions"); ok {
		p.AdditionalProperties = &jsonschema.Schema{AnyOf: []*jsonschema.Schema{{Type: "integer"}, {Type: "string"}}}
		p.Description = "New configurable option values by option id (type configoptions; see get_products): the choice id for dropdown " +
			"and radio options, the quantity for quantity options, 1 or 0 for yes/no, e.g. {\"4\": 2}."
	}
}

// UpgradeProductResult is upgrade_product's result.
type UpgradeProductResult struct {
	WriteStatus
	Order *whmcs.UpgradeProductResponse `json:"order,omitempty" jsonschema_description:"WHMCS's reply to the upgrade order (when done)."`
}

// UpgradeProduct is the upgrade_product tool.
func UpgradeProduct(deps *Deps) Tool {
	spec := Spec{
		Name:    "upgrade_product",
		Action:  "UpgradeProduct",
		Summary: "always guarded; `calconly: true` is a read-only quote",
		Description: "Upgrade or downgrade a service to another product or billing cycle, or change its configurable options, " +
			"with WHMCS's prorated price. calconly: true only quotes. An upgrade changes nothing at first: it returns WHMCS's quote, " +
			"and only a person's confirmation places it. Show the quote; never confirm on your own initiative.",
		Kind: Write, Destructive: true, Idempotent: false,
		Args:   &UpgradeProductArgs{},
		Result: &UpgradeProductResult{},
		Scope:  Scope{Record: serviceRecord},
		Checks: Checks{PaymentMethod: "paymentmethod", Products: []string{"newproductid"}, Service: "serviceid",
			ConfigOptions: "configoptions", ConfigValues: ChoiceOrQuantity},
		Probe: Probe{Run: probeUpgrade},
	}
	return Tool{Spec: spec, Handler: handle(spec, deps, func(ctx context.Context, req mcp.CallToolRequest, args *UpgradeProductArgs) (any, error) {
		call := args.UpgradeProductRequest
		kind := OpUpgrade
		if call.CalcOnly {
			kind = OpQuote
		}
		bound := call
		bound.CalcOnly = false // a quote's token, where tokens confirm, confirms the real upgrade
		return deps.Gate.Run(ctx, &Operation{
			Kind: kind, Tool: spec.Name, Request: req, Args: bound, Confirmation: args.Confirmation,
			ReadBack: serviceReadBack(call.ServiceID),
			Subject: func(ctx context.Context) (*Subject, error) {
				return serviceSubject(ctx, deps.WHMCS, call.ServiceID)
			},
			Quote: func(ctx context.Context) (*Quote, error) {
				return quote(ctx, deps.WHMCS, bound)
			},
			Execute: func(ctx context.Context) (any, error) {
				resp, err := deps.WHMCS.UpgradeProduct(ctx, bound)
				if err != nil {
					return nil, err
				}
				return &UpgradeProductResult{WriteStatus: WriteStatus{Status: StatusDone}, Order: resp}, nil
			},
		})
	})}
}

// serviceReadBack says how to read a service back.
func serviceReadBack(id int) string {
	return fmt.Sprintf("the service back with %s {\"serviceid\": %d}", nameGetClientsProducts, id)
}

// probeUpgrade asks for a calconly quote: of the first service to its own
// product and cycle when there is one, else of service 0, paid with the
// first payment method.
func probeUpgrade(ctx context.Context, c *whmcs.Client) error {
	req := whmcs.UpgradeProductRequest{CalcOnly: true, Type: "product", PaymentMethod: "paypal"}
	if methods, err := c.GetPaymentMethods(ctx); err == nil && len(methods.PaymentMethods) > 0 {
		req.PaymentMethod = string(methods.PaymentMethods[0].Module)
	}
	if services, err := c.GetClientsProducts(ctx, whmcs.GetClientsProductsRequest{LimitNum: ptr(1)}); err == nil && len(services.Products) > 0 {
		s := services.Products[0]
		cycle := strings.ToLower(strings.NewReplacer("-", "", " ", "").Replace(string(s.BillingCycle)))
		req.ServiceID, req.NewProductID, req.NewProductBillingCycle = int(s.ID), ptr(int(s.PID)), &cycle
	}
	_, err := c.UpgradeProduct(ctx, req)
	return err
}

// quote asks WHMCS for the calconly quote of an upgrade.
func quote(ctx context.Context, c *whmcs.Client, req whmcs.UpgradeProductRequest) (*Quote, error) {
	req.CalcOnly = true
	resp, err := c.UpgradeProduct(ctx, req)
	if err != nil {
		return nil, err
	}
	amount, err := resp.Amount()
	if err != nil {
		return nil, fmt.Errorf("WHMCS's upgrade quote: %w", err)
	}
	return &Quote{
		ServiceID:        req.ServiceID,
		OldProductID:     int(resp.OldProductID),
		OldProductName:   string(resp.OldProductName),
		NewProductID:     int(resp.NewProductID),
		NewProductName:   string(resp.NewProductName),
		BillingCycle:     string(resp.NewProductBillingCycle),
		DaysUntilRenewal: int(resp.DaysUntilRenewal),
		TotalDays:        int(resp.TotalDays),
		Price:            string(resp.Price),
		Amount:           amount,
	}, nil
}
