package whmcs

import "context"

// GetClientsAddonsRequest filters client addons.
type GetClientsAddonsRequest struct {
	ServiceID *int `json:"serviceid,omitempty" jsonschema:"minimum=1" jsonschema_description:"Only addons of this service."`
	ClientID  *int `json:"clientid,omitempty" jsonschema:"minimum=1" jsonschema_description:"Only addons of this client."`
	AddonID   *int `json:"addonid,omitempty" jsonschema:"minimum=1" jsonschema_description:"Only addons of this catalogue addon id."`
}

// GetClientsAddonsResponse lists client addons.
type GetClientsAddonsResponse struct {
	TotalResults Int                  `json:"totalresults"`
	Addons       Wrapped[ClientAddon] `json:"addons"`
}

// ClientAddon is an addon attached to a client's service.
type ClientAddon struct {
	ID                Int    `json:"id" jsonschema_description:"Client addon id (the id update_client_addon takes)."`
	UserID            Int    `json:"userid,omitzero" jsonschema_description:"Owning client id."`
	OrderID           Int    `json:"orderid,omitzero" jsonschema_description:"Order id."`
	ServiceID         Int    `json:"serviceid,omitzero" jsonschema_description:"Service the addon belongs to."`
	AddonID           Int    `json:"addonid,omitzero" jsonschema_description:"Catalogue addon id."`
	Name              String `json:"name,omitzero" jsonschema_description:"Addon name."`
	Qty               Int    `json:"qty,omitzero" jsonschema_description:"Quantity."`
	SetupFee          Float  `json:"setupfee,omitzero" jsonschema_description:"Setup fee."`
	Recurring         Float  `json:"recurring,omitzero" jsonschema_description:"Recurring amount per billing cycle."`
	BillingCycle      String `json:"billingcycle,omitzero" jsonschema_description:"Billing cycle."`
	Tax               Bool   `json:"tax,omitzero" jsonschema_description:"The addon is taxed."`
	Status            String `json:"status,omitzero" jsonschema_description:"Addon status."`
	RegDate           Date   `json:"regdate,omitzero" jsonschema_description:"Registration date."`
	NextDueDate       Date   `json:"nextduedate,omitzero" jsonschema_description:"Next due date."`
	NextInvoiceDate   Date   `json:"nextinvoicedate,omitzero" jsonschema_description:"Next invoice date."`
	PaymentMethod     String `json:"paymentmethod,omitzero" jsonschema_description:"Payment gateway module name."`
	PaymentMethodName String `json:"paymentmethodname,omitzero" jsonschema_description:"Payment gateway display name."`
	Notes             String `json:"notes,omitzero" jsonschema_description:"Admin notes."`
}

// GetClientsAddons lists client addons.
func (c *Client) GetClientsAddons(ctx context.Context, req GetClientsAddonsRequest) (*GetClientsAddonsResponse, error) {
	var resp GetClientsAddonsResponse
	if err := c.send(ctx, "GetClientsAddons", &req, read, &resp); err != nil {
		return nil, err
	}
	return &resp, nil
}

// UpdateClientAddonRequest changes a client addon. Nil fields are left as they are.
type UpdateClientAddonRequest struct {
	ID              int      `json:"id" jsonschema:"required,minimum=1" jsonschema_description:"Client addon id (from get_clients_addons)."`
	Status          *string  `json:"status,omitempty" jsonschema:"enum=Pending,enum=Active,enum=Suspended,enum=Terminated,enum=Cancelled,enum=Fraud" jsonschema_description:"New addon status. Only changes the record: no provisioning module runs."`
	AddonID         *int     `json:"addonid,omitempty" jsonschema:"minimum=1" jsonschema_description:"Catalogue addon id to switch to."`
	Name            *string  `json:"name,omitempty" jsonschema_description:"Custom addon name."`
	SetupFee        *float64 `json:"setupfee,omitempty" jsonschema:"minimum=0" jsonschema_description:"Setup fee."`
	Recurring       *float64 `json:"recurring,omitempty" jsonschema:"minimum=0" jsonschema_description:"Recurring amount per billing cycle."`
	BillingCycle    *string  `json:"billingcycle,omitempty" jsonschema:"enum=Free Account,enum=One Time,enum=Monthly,enum=Quarterly,enum=Semi-Annually,enum=Annually,enum=Biennially,enum=Triennially" jsonschema_description:"Billing cycle."`
	NextDueDate     Date     `json:"nextduedate,omitempty" jsonschema_description:"Next due date."`
	TerminationDate Date     `json:"terminationdate,omitempty" jsonschema_description:"Termination date."`
	Notes           *string  `json:"notes,omitempty" jsonschema_description:"Admin notes (replaces the current notes)."`
	AutoRecalc      *bool    `json:"autorecalc,omitempty" jsonschema_description:"Recompute the recurring amount from the addon's price (recurring is then ignored)."`
}

// UpdateClientAddonResponse confirms an update.
type UpdateClientAddonResponse struct {
	ID Int `json:"id"`
}

// UpdateClientAddon changes a client addon. It is a write: never retried.
func (c *Client) UpdateClientAddon(ctx context.Context, req UpdateClientAddonRequest) (*UpdateClientAddonResponse, error) {
	var resp UpdateClientAddonResponse
	if err := c.send(ctx, "UpdateClientAddon", &req, write, &resp); err != nil {
		return nil, err
	}
	return &resp, nil
}
