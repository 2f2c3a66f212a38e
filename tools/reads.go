package tools

import (
	"context"
	"maps"
	"slices"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/whmcs-mcp/whmcs-mcp/internal/logging"
	"github.com/whmcs-mcp/whmcs-mcp/whmcs"
)

// The names of the reads that other tools point to.
const (
	nameGetClientsProducts = "get_clients_products"
	nameGetClientsAddons   = "get_clients_addons"
)

func ptr[T any](v T) *T { return &v }

// redacted stands in for a service password: WHMCS returns it decrypted, and
// it must never reach the model.
const redacted = logging.Redacted

// ClientsProductsArgs are get_clients_products's arguments: WHMCS's filters
// and the fields to return.
type ClientsProductsArgs struct {
	whmcs.GetClientsProductsRequest
	FieldsArg
}

// ClientsProductsResult is a page of client services.
type ClientsProductsResult struct {
	Total      int  `json:"total" jsonschema:"required" jsonschema_description:"Services matching the filter."`
	Returned   int  `json:"returned" jsonschema:"required" jsonschema_description:"Services in this page."`
	NextOffset *int `json:"next_offset,omitempty" jsonschema_description:"limitstart of the next page; absent on the last page."`
	LeftOut
	Products []Service `json:"products" jsonschema:"required" jsonschema_description:"The services."`
}

func (r *ClientsProductsResult) records() any { return r.Products }

// GetClientsProducts is the get_clients_products tool.
func GetClientsProducts(deps *Deps) Tool {
	spec := Spec{
		Name:    nameGetClientsProducts,
		Action:  "GetClientsProducts",
		Summary: "services with status, product, billing, due date, server",
		Description: "List client services (hosting accounts, servers) with status, product, billing cycle, amount and " +
			"next due date. Filter by clientid, serviceid, pid, domain or username2; page with limitstart/limitnum. " +
			"A list returns the main fields and names the others in omitted (server, custom fields, configurable options...): " +
			"ask for them with fields, or fields [\"*\"] for all; serviceid alone returns every field.",
		Kind:   Read,
		Args:   &ClientsProductsArgs{},
		Result: &ClientsProductsResult{},
		Scope:  Scope{ClientArg: "clientid", Empty: &ClientsProductsResult{Products: []Service{}}},
		Fields: &Fields{
			Default: []string{"id", "clientid", "pid", "name", "domain", "status", "billingcycle", "recurringamount", "nextduedate"},
			Always:  []string{"id"},
			Whole:   []string{"serviceid"},
		},
		Probe: Probe{Run: func(ctx context.Context, c *whmcs.Client) error {
			_, err := c.GetClientsProducts(ctx, whmcs.GetClientsProductsRequest{LimitNum: ptr(1)})
			return err
		}},
	}
	return Tool{Spec: spec, Handler: handle(spec, deps, func(ctx context.Context, _ mcp.CallToolRequest, a *ClientsProductsArgs) (any, error) {
		args := &a.GetClientsProductsRequest
		resp, err := deps.WHMCS.GetClientsProducts(ctx, *args)
		if err != nil {
			return nil, err
		}
		products := make([]Service, 0, len(resp.Products))
		for _, p := range resp.Products {
			products = append(products, serviceOf(p))
		}
		start := 0
		if args.LimitStart != nil {
			start = *args.LimitStart
		}
		return &ClientsProductsResult{
			Total:      int(resp.TotalResults),
			Returned:   len(products),
			NextOffset: nextOffset(start, len(products), int(resp.TotalResults)),
			Products:   products,
		}, nil
	})}
}

// nextOffset returns the offset of the next page, or nil on the last page.
func nextOffset(start, returned, total int) *int {
	if returned == 0 || start+returned >= total {
		return nil
	}
	next := start + returned
	return &next
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// ProductsArgs are get_products's arguments: WHMCS's filters and the fields
// to return.
type ProductsArgs struct {
	whmcs.GetProductsRequest
	FieldsArg
}

// ProductsResult is the product catalogue.
type ProductsResult struct {
	Total    int `json:"total" jsonschema:"required" jsonschema_description:"Products matching the filter."`
	Returned int `json:"returned" jsonschema:"required" jsonschema_description:"Products in this result."`
	LeftOut
	Products []ProductResult `json:"products" jsonschema:"required" jsonschema_description:"The products."`
}

func (r *ProductsResult) records() any { return r.Products }

// ProductResult is a catalogue product with the cycles it is sold in.
type ProductResult struct {
	PID           whmcs.Int      `json:"pid" jsonschema_description:"Product id (newproductid of upgrade_product)."`
	GID           whmcs.Int      `json:"gid,omitzero" jsonschema_description:"Product group id."`
	Type          whmcs.String   `json:"type,omitzero" jsonschema_description:"Product type, e.g. hostingaccount, server, other."`
	Name          whmcs.String   `json:"name,omitzero" jsonschema_description:"Product name."`
	Description   whmcs.String   `json:"description,omitzero" jsonschema_description:"Product description."`
	Module        whmcs.String   `json:"module,omitzero" jsonschema_description:"Provisioning module."`
	PayType       whmcs.String   `json:"paytype,omitzero" jsonschema_description:"free, onetime or recurring."`
	Prices        []Price        `json:"prices,omitempty" jsonschema_description:"Price per currency and billing cycle; cycles not offered are left out."`
	ConfigOptions []ConfigOption `json:"configoptions,omitempty" jsonschema_description:"Configurable options (for upgrade_product type configoptions)."`
}

// ConfigOption is a configurable option of a product and its choices.
type ConfigOption struct {
	ID      whmcs.Int      `json:"id" jsonschema_description:"Configurable option id (the key of configoptions arguments)."`
	Name    whmcs.String   `json:"name,omitzero" jsonschema_description:"Option name."`
	Type    whmcs.String   `json:"type,omitzero" jsonschema_description:"Option type: dropdown, radio, yesno or quantity (WHMCS's type codes 1 to 4 translated into words; any other code as WHMCS sent it)."`
	Choices []ConfigChoice `json:"choices,omitempty" jsonschema_description:"The choices."`
}

// ConfigChoice is one choice of a configurable option.
type ConfigChoice struct {
	ID     whmcs.Int    `json:"id" jsonschema_description:"Choice id (the value of configoptions arguments)."`
	Name   whmcs.String `json:"name,omitzero" jsonschema_description:"Choice name."`
	Prices []Price      `json:"prices,omitempty" jsonschema_description:"Price per currency and billing cycle."`
}

// Price is the price of one billing cycle in one currency.
type Price struct {
	Currency string      `json:"currency" jsonschema_description:"Currency code."`
	Cycle    string      `json:"cycle" jsonschema_description:"Billing cycle (the value newproductbillingcycle takes)."`
	Price    whmcs.Float `json:"price" jsonschema_description:"Recurring price per cycle."`
	SetupFee whmcs.Float `json:"setupfee,omitzero" jsonschema_description:"Setup fee."`
}

// GetProducts is the get_products tool.
func GetProducts(deps *Deps) Tool {
	spec := Spec{
		Name:    "get_products",
		Action:  "GetProducts",
		Summary: "upgrade targets and their prices per cycle",
		Description: "List catalogue products with their prices per billing cycle: the upgrade targets for upgrade_product. Filter by pid, gid or module. " +
			"A list leaves out the configurable options and the module (see omitted): ask for them with fields, or fields [\"*\"] for all; pid alone returns every field.",
		Kind:   Read,
		Args:   &ProductsArgs{},
		Result: &ProductsResult{},
		Fields: &Fields{
			Default: []string{"pid", "gid", "type", "name", "description", "paytype", "prices"},
			Always:  []string{"pid"},
			Whole:   []string{"pid"},
		},
		Probe: Probe{Run: func(ctx context.Context, c *whmcs.Client) error {
			_, err := c.GetProducts(ctx, whmcs.GetProductsRequest{})
			return err
		}},
	}
	return Tool{Spec: spec, Handler: handle(spec, deps, func(ctx context.Context, _ mcp.CallToolRequest, args *ProductsArgs) (any, error) {
		resp, err := deps.WHMCS.GetProducts(ctx, args.GetProductsRequest)
		if err != nil {
			return nil, err
		}
		products := make([]ProductResult, 0, len(resp.Products))
		for _, p := range resp.Products {
			products = append(products, productResult(p))
		}
		return &ProductsResult{Total: int(resp.TotalResults), Returned: len(products), Products: products}, nil
	})}
}

func productResult(p whmcs.Product) ProductResult {
	r := ProductResult{
		PID: p.PID, GID: p.GID, Type: p.Type, Name: p.Name, Description: p.Description,
		Module: p.Module, PayType: p.PayType, Prices: prices(p.Pricing),
	}
	for _, o := range p.ConfigOptions {
		option := ConfigOption{ID: o.ID, Name: o.Name, Type: optionType(o.Type)}
		for _, c := range o.Options {
			option.Choices = append(option.Choices, ConfigChoice{ID: c.ID, Name: c.Name, Prices: prices(c.Pricing)})
		}
		r.ConfigOptions = append(r.ConfigOptions, option)
	}
	return r
}

// optionTypes are the words for the configurable option type codes that
// GetProducts sends ("1" to "4"), which mean nothing to a model.
var optionTypes = map[whmcs.String]whmcs.String{"1": "dropdown", "2": "radio", "3": "yesno", "4": "quantity"}

// optionType is the word for a configurable option type code; anything else
// (a word already, or a code WHMCS may add) is kept as it is.
func optionType(code whmcs.String) whmcs.String {
	if word, ok := optionTypes[code]; ok {
		return word
	}
	return code
}

// prices flattens WHMCS's pricing table, leaving out cycles not offered.
func prices(pricing map[string]whmcs.CurrencyPricing) []Price {
	var out []Price
	for _, currency := range slices.Sorted(maps.Keys(pricing)) {
		for _, c := range pricing[currency].Cycles() {
			out = append(out, Price{Currency: currency, Cycle: c.Cycle, Price: c.Price, SetupFee: max(c.SetupFee, 0)})
		}
	}
	return out
}

// ClientsAddonsArgs are get_clients_addons's arguments: WHMCS's filters and
// the fields to return.
type ClientsAddonsArgs struct {
	whmcs.GetClientsAddonsRequest
	FieldsArg
}

// ClientsAddonsResult lists client addons.
type ClientsAddonsResult struct {
	Total    int `json:"total" jsonschema:"required" jsonschema_description:"Addons matching the filter."`
	Returned int `json:"returned" jsonschema:"required" jsonschema_description:"Addons in this result."`
	LeftOut
	Addons []whmcs.ClientAddon `json:"addons" jsonschema:"required" jsonschema_description:"The addons."`
}

func (r *ClientsAddonsResult) records() any { return r.Addons }

// GetClientsAddons is the get_clients_addons tool.
func GetClientsAddons(deps *Deps) Tool {
	spec := Spec{
		Name:    nameGetClientsAddons,
		Action:  "GetClientsAddons",
		Summary: "addon ids for update_client_addon",
		Description: "List addons attached to client services, with status and billing; the id of each is what update_client_addon takes. Filter by serviceid, clientid or addonid. " +
			"Returns the main fields and names the others in omitted (dates, payment method, notes...): ask for them with fields, or fields [\"*\"] for all.",
		Kind:   Read,
		Args:   &ClientsAddonsArgs{},
		Result: &ClientsAddonsResult{},
		Scope:  Scope{ClientArg: "clientid", Empty: &ClientsAddonsResult{Addons: []whmcs.ClientAddon{}}},
		Fields: &Fields{
			Default: []string{"id", "userid", "serviceid", "name", "recurring", "billingcycle", "status", "nextduedate"},
			Always:  []string{"id"},
		},
		Probe: Probe{Run: func(ctx context.Context, c *whmcs.Client) error {
			_, err := c.GetClientsAddons(ctx, whmcs.GetClientsAddonsRequest{ClientID: ptr(0)})
			return err
		}},
	}
	return Tool{Spec: spec, Handler: handle(spec, deps, func(ctx context.Context, _ mcp.CallToolRequest, args *ClientsAddonsArgs) (any, error) {
		resp, err := deps.WHMCS.GetClientsAddons(ctx, args.GetClientsAddonsRequest)
		if err != nil {
			return nil, err
		}
		addons := nonNil([]whmcs.ClientAddon(resp.Addons))
		return &ClientsAddonsResult{Total: int(resp.TotalResults), Returned: len(addons), Addons: addons}, nil
	})}
}

// NoArgs is the argument type of a tool that takes none.
type NoArgs struct{}

// PaymentMethodsResult lists the payment gateways.
type PaymentMethodsResult struct {
	Total          int                   `json:"total" jsonschema:"required" jsonschema_description:"Active payment gateways."`
	Returned       int                   `json:"returned" jsonschema:"required" jsonschema_description:"Gateways in this result."`
	PaymentMethods []whmcs.PaymentMethod `json:"paymentmethods" jsonschema:"required" jsonschema_description:"The gateways."`
}

// GetPaymentMethods is the get_payment_methods tool.
func GetPaymentMethods(deps *Deps) Tool {
	spec := Spec{
		Name:        "get_payment_methods",
		Action:      "GetPaymentMethods",
		Summary:     "valid `paymentmethod` values",
		Description: "List the active payment gateways: the valid values of paymentmethod.",
		Kind:        Read,
		Args:        &NoArgs{},
		Result:      &PaymentMethodsResult{},
		Probe: Probe{Run: func(ctx context.Context, c *whmcs.Client) error {
			_, err := c.GetPaymentMethods(ctx)
			return err
		}},
	}
	return Tool{Spec: spec, Handler: handle(spec, deps, func(ctx context.Context, _ mcp.CallToolRequest, _ *NoArgs) (any, error) {
		resp, err := deps.WHMCS.GetPaymentMethods(ctx)
		if err != nil {
			return nil, err
		}
		methods := nonNil([]whmcs.PaymentMethod(resp.PaymentMethods))
		return &PaymentMethodsResult{Total: int(resp.TotalResults), Returned: len(methods), PaymentMethods: methods}, nil
	})}
}
