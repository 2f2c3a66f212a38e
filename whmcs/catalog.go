package whmcs

import "context"

// Billing cycles as WHMCS names them in product pricing (and in
// UpgradeProduct's newproductbillingcycle).
var PricingCycles = []string{"monthly", "quarterly", "semiannually", "annually", "biennially", "triennially"}

// GetProductsRequest filters the product catalogue.
type GetProductsRequest struct {
	PID    *int    `json:"pid,omitempty" jsonschema:"minimum=1" jsonschema_description:"Only this product id."`
	GID    *int    `json:"gid,omitempty" jsonschema:"minimum=1" jsonschema_description:"Only products of this product group id."`
	Module *string `json:"module,omitempty" jsonschema_description:"Only products using this provisioning module, e.g. cpanel."`
}

// GetProductsResponse is the product catalogue.
type GetProductsResponse struct {
	TotalResults Int              `json:"totalresults"`
	Products     Wrapped[Product] `json:"products"`
}

// Product is a product of the catalogue.
type Product struct {
	PID           Int                          `json:"pid"`
	GID           Int                          `json:"gid,omitzero"`
	Type          String                       `json:"type,omitzero"`
	Name          String                       `json:"name,omitzero"`
	Description   String                       `json:"description,omitzero"`
	Module        String                       `json:"module,omitzero"`
	PayType       String                       `json:"paytype,omitzero"`
	Pricing       map[string]CurrencyPricing   `json:"pricing,omitempty"`
	CustomFields  Wrapped[ProductCustomField]  `json:"customfields,omitzero"`
	ConfigOptions Wrapped[ProductConfigOption] `json:"configoptions,omitzero"`
}

// CurrencyPricing is a product's prices in one currency. WHMCS marks a cycle
// the product is not sold in with -1.00.
type CurrencyPricing struct {
	Prefix       String `json:"prefix"`
	Suffix       String `json:"suffix"`
	MSetupFee    Float  `json:"msetupfee"`
	QSetupFee    Float  `json:"qsetupfee"`
	SSetupFee    Float  `json:"ssetupfee"`
	ASetupFee    Float  `json:"asetupfee"`
	BSetupFee    Float  `json:"bsetupfee"`
	TSetupFee    Float  `json:"tsetupfee"`
	Monthly      Float  `json:"monthly"`
	Quarterly    Float  `json:"quarterly"`
	SemiAnnually Float  `json:"semiannually"`
	Annually     Float  `json:"annually"`
	Biennially   Float  `json:"biennially"`
	Triennially  Float  `json:"triennially"`
}

// Cycles returns the price and setup fee of each cycle, in PricingCycles
// order, as [cycle, price, setup fee] with disabled cycles (-1) left out.
func (p CurrencyPricing) Cycles() []CyclePrice {
	all := []CyclePrice{
		{"monthly", p.Monthly, p.MSetupFee},
		{"quarterly", p.Quarterly, p.QSetupFee},
		{"semiannually", p.SemiAnnually, p.SSetupFee},
		{"annually", p.Annually, p.ASetupFee},
		{"biennially", p.Biennially, p.BSetupFee},
		{"triennially", p.Triennially, p.TSetupFee},
	}
	offered := all[:0]
	for _, c := range all {
		if c.Price >= 0 {
			offered = append(offered, c)
		}
	}
	return offered
}

// CyclePrice is the price of one billing cycle.
type CyclePrice struct {
	Cycle    string
	Price    Float
	SetupFee Float
}

// ProductCustomField is a custom field defined on a product.
type ProductCustomField struct {
	ID          Int    `json:"id"`
	Name        String `json:"name,omitzero"`
	Description String `json:"description,omitzero"`
	Required    String `json:"required,omitzero"`
}

// ProductConfigOption is a configurable option defined on a product. Type
// is WHMCS's code ("1" dropdown, "2" radio, "3" yes/no, "4" quantity).
// MinQty and MaxQty bound a quantity option's quantity; WHMCS sends them
// from 8.12 on, and 0 for MaxQty means no bound.
type ProductConfigOption struct {
	ID      Int                          `json:"id"`
	Name    String                       `json:"name,omitzero"`
	Type    String                       `json:"type,omitzero"`
	MinQty  Int                          `json:"minqty,omitzero"`
	MaxQty  Int                          `json:"maxqty,omitzero"`
	Options Wrapped[ProductConfigChoice] `json:"options,omitzero"`
}

// ProductConfigChoice is one choice of a configurable option.
type ProductConfigChoice struct {
	ID      Int                        `json:"id"`
	Name    String                     `json:"name,omitzero"`
	Pricing map[string]CurrencyPricing `json:"pricing,omitempty"`
}

// GetProducts reads the product catalogue.
func (c *Client) GetProducts(ctx context.Context, req GetProductsRequest) (*GetProductsResponse, error) {
	var resp GetProductsResponse
	if err := c.send(ctx, "GetProducts", &req, read, &resp); err != nil {
		return nil, err
	}
	return &resp, nil
}
