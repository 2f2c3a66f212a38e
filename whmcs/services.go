package whmcs

import "context"

// Service statuses WHMCS accepts for a client service (tblhosting.domainstatus).
var ServiceStatuses = []string{"Pending", "Active", "Suspended", "Terminated", "Cancelled", "Fraud", "Completed"}

// GetClientsProductsRequest filters the services GetClientsProducts returns.
type GetClientsProductsRequest struct {
	LimitStart *int    `json:"limitstart,omitempty" jsonschema:"minimum=0" jsonschema_description:"Offset of the first service to return (default 0)."`
	LimitNum   *int    `json:"limitnum,omitempty" jsonschema:"minimum=1,maximum=250" jsonschema_description:"Number of services to return (default 25)."`
	ClientID   *int    `json:"clientid,omitempty" jsonschema:"minimum=1" jsonschema_description:"Only services of this client."`
	ServiceID  *int    `json:"serviceid,omitempty" jsonschema:"minimum=1" jsonschema_description:"Only this service."`
	PID        *int    `json:"pid,omitempty" jsonschema:"minimum=1" jsonschema_description:"Only services of this product id."`
	Domain     *string `json:"domain,omitempty" jsonschema_description:"Only services with this domain name."`
	Username2  *string `json:"username2,omitempty" jsonschema_description:"Only services with this service username."`
}

// GetClientsProductsResponse is a page of client services.
type GetClientsProductsResponse struct {
	TotalResults Int                    `json:"totalresults"`
	StartNumber  Int                    `json:"startnumber"`
	NumReturned  Int                    `json:"numreturned"`
	Products     Wrapped[ClientProduct] `json:"products"`
}

// ClientProduct is a client's service (a product instance) as WHMCS returns it.
// Its json tags keep WHMCS's names; omitzero leaves out WHMCS's "none" values.
type ClientProduct struct {
	ID                  Int                        `json:"id,omitzero"`
	Qty                 Int                        `json:"qty,omitzero"`
	ClientID            Int                        `json:"clientid,omitzero"`
	OrderID             Int                        `json:"orderid,omitzero"`
	OrderNumber         String                     `json:"ordernumber,omitzero"`
	PID                 Int                        `json:"pid,omitzero"`
	RegDate             Date                       `json:"regdate,omitzero"`
	Name                String                     `json:"name,omitzero"`
	TranslatedName      String                     `json:"translated_name,omitzero"`
	GroupName           String                     `json:"groupname,omitzero"`
	TranslatedGroupName String                     `json:"translated_groupname,omitzero"`
	Domain              String                     `json:"domain,omitzero"`
	DedicatedIP         String                     `json:"dedicatedip,omitzero"`
	ServerID            Int                        `json:"serverid,omitzero"`
	ServerName          String                     `json:"servername,omitzero"`
	ServerIP            String                     `json:"serverip,omitzero"`
	ServerHostname      String                     `json:"serverhostname,omitzero"`
	SuspensionReason    String                     `json:"suspensionreason,omitzero"`
	FirstPaymentAmount  Float                      `json:"firstpaymentamount,omitzero"`
	RecurringAmount     Float                      `json:"recurringamount,omitzero"`
	PaymentMethod       String                     `json:"paymentmethod,omitzero"`
	PaymentMethodName   String                     `json:"paymentmethodname,omitzero"`
	BillingCycle        String                     `json:"billingcycle,omitzero"`
	NextDueDate         Date                       `json:"nextduedate,omitzero"`
	Status              String                     `json:"status,omitzero"`
	Username            String                     `json:"username,omitzero"`
	Password            String                     `json:"password,omitzero"`
	SubscriptionID      String                     `json:"subscriptionid,omitzero"`
	PromoID             Int                        `json:"promoid,omitzero"`
	OverideAutoSuspend  Bool                       `json:"overideautosuspend,omitzero"`
	OverideSuspendUntil Date                       `json:"overidesuspenduntil,omitzero"`
	NS1                 String                     `json:"ns1,omitzero"`
	NS2                 String                     `json:"ns2,omitzero"`
	AssignedIPs         String                     `json:"assignedips,omitzero"`
	Notes               String                     `json:"notes,omitzero"`
	DiskUsage           Int                        `json:"diskusage,omitzero"`
	DiskLimit           Int                        `json:"disklimit,omitzero"`
	BwUsage             Int                        `json:"bwusage,omitzero"`
	BwLimit             Int                        `json:"bwlimit,omitzero"`
	LastUpdate          Date                       `json:"lastupdate,omitzero"`
	CustomFields        Wrapped[CustomFieldValue]  `json:"customfields,omitzero"`
	ConfigOptions       Wrapped[ConfigOptionValue] `json:"configoptions,omitzero"`
}

// CustomFieldValue is one custom field of a service.
type CustomFieldValue struct {
	ID             Int    `json:"id,omitzero" jsonschema_description:"Custom field id (the key of customfields arguments)."`
	Name           String `json:"name,omitzero" jsonschema_description:"Field name."`
	TranslatedName String `json:"translated_name,omitzero" jsonschema_description:"Field name in the client's language, when it differs."`
	Value          String `json:"value,omitzero" jsonschema_description:"Value."`
}

// ConfigOptionValue is one configurable option of a service.
type ConfigOptionValue struct {
	ID     Int    `json:"id,omitzero" jsonschema_description:"Configurable option id (the key of configoptions arguments)."`
	Option String `json:"option,omitzero" jsonschema_description:"Option name."`
	Type   String `json:"type,omitzero" jsonschema_description:"Option type (dropdown, radio, yesno, quantity)."`
	Value  String `json:"value,omitzero" jsonschema_description:"Selected value."`
}

// GetClientsProducts lists client services.
func (c *Client) GetClientsProducts(ctx context.Context, req GetClientsProductsRequest) (*GetClientsProductsResponse, error) {
	var resp GetClientsProductsResponse
	if err := c.send(ctx, "GetClientsProducts", &req, read, &resp); err != nil {
		return nil, err
	}
	return &resp, nil
}

// UpdateClientProductRequest changes fields of a client service. Nil fields
// are left as they are.
type UpdateClientProductRequest struct {
	ServiceID           int      `json:"serviceid" jsonschema:"required,minimum=1" jsonschema_description:"Id of the service to update."`
	PID                 *int     `json:"pid,omitempty" jsonschema:"minimum=1" jsonschema_description:"Move the service to this product id (no invoice; use upgrade_product to bill an upgrade)."`
	ServerID            *int     `json:"serverid,omitempty" jsonschema:"minimum=0" jsonschema_description:"Server id to assign."`
	RegDate             Date     `json:"regdate,omitempty" jsonschema_description:"Registration date."`
	NextDueDate         Date     `json:"nextduedate,omitempty" jsonschema_description:"Next due date."`
	TerminationDate     Date     `json:"terminationdate,omitempty" jsonschema_description:"Termination date."`
	Domain              *string  `json:"domain,omitempty" jsonschema_description:"Domain name."`
	FirstPaymentAmount  *float64 `json:"firstpaymentamount,omitempty" jsonschema:"minimum=0" jsonschema_description:"First payment amount."`
	RecurringAmount     *float64 `json:"recurringamount,omitempty" jsonschema:"minimum=0" jsonschema_description:"Recurring amount billed each cycle."`
	PaymentMethod       *string  `json:"paymentmethod,omitempty" jsonschema_description:"Payment gateway module name, e.g. paypal (see get_payment_methods)."`
	BillingCycle        *string  `json:"billingcycle,omitempty" jsonschema:"enum=Free Account,enum=One Time,enum=Monthly,enum=Quarterly,enum=Semi-Annually,enum=Annually,enum=Biennially,enum=Triennially" jsonschema_description:"Billing cycle."`
	SubscriptionID      *string  `json:"subscriptionid,omitempty" jsonschema_description:"Gateway subscription id."`
	Status              *string  `json:"status,omitempty" jsonschema:"enum=Pending,enum=Active,enum=Suspended,enum=Terminated,enum=Cancelled,enum=Fraud,enum=Completed" jsonschema_description:"New service status. Only changes the record: no provisioning module runs."`
	Notes               *string  `json:"notes,omitempty" jsonschema_description:"Admin notes (replaces the current notes)."`
	ServiceUsername     *string  `json:"serviceusername,omitempty" jsonschema_description:"Service username."`
	ServicePassword     *string  `json:"servicepassword,omitempty" jsonschema_description:"Service password (never logged)."`
	OverideAutoSuspend  *string  `json:"overideautosuspend,omitempty" jsonschema:"enum=on,enum=off" jsonschema_description:"Override automatic suspension."`
	OverideSuspendUntil Date     `json:"overidesuspenduntil,omitempty" jsonschema_description:"Override automatic suspension until this date."`
	NS1                 *string  `json:"ns1,omitempty" jsonschema_description:"First nameserver (VPS/dedicated only)."`
	NS2                 *string  `json:"ns2,omitempty" jsonschema_description:"Second nameserver (VPS/dedicated only)."`
	DedicatedIP         *string  `json:"dedicatedip,omitempty" jsonschema_description:"Dedicated IP address."`
	AssignedIPs         *string  `json:"assignedips,omitempty" jsonschema_description:"Assigned IP addresses (VPS/dedicated only)."`
	DiskUsage           *int     `json:"diskusage,omitempty" jsonschema:"minimum=0" jsonschema_description:"Disk usage in MB."`
	DiskLimit           *int     `json:"disklimit,omitempty" jsonschema:"minimum=0" jsonschema_description:"Disk limit in MB."`
	BwUsage             *int     `json:"bwusage,omitempty" jsonschema:"minimum=0" jsonschema_description:"Bandwidth usage in MB."`
	BwLimit             *int     `json:"bwlimit,omitempty" jsonschema:"minimum=0" jsonschema_description:"Bandwidth limit in MB."`
	SuspendReason       *string  `json:"suspendreason,omitempty" jsonschema_description:"Suspension reason."`
	PromoID             *int     `json:"promoid,omitempty" jsonschema:"minimum=0" jsonschema_description:"Promotion id."`
	Unset               []string `json:"unset,omitempty" jsonschema:"enum=domain,enum=serviceusername,enum=servicepassword,enum=subscriptionid,enum=ns1,enum=ns2,enum=dedicatedip,enum=assignedips,enum=notes,enum=suspendreason" jsonschema_description:"Fields to clear."`
	AutoRecalc          *bool    `json:"autorecalc,omitempty" jsonschema_description:"Recompute the recurring amount from the product's price (recurringamount is then ignored)."`
	CustomFields        PHPArray `json:"customfields,omitempty" jsonschema_description:"Custom field values by custom field id, e.g. {\"1\": \"Yahoo\"}."`
	ConfigOptions       PHPArray `json:"configoptions,omitempty" jsonschema_description:"Configurable options by option id: an option choice id, or {\"optionid\": ID, \"qty\": N}."`
}

// UpdateClientProductResponse confirms an update.
type UpdateClientProductResponse struct {
	ServiceID Int `json:"serviceid"`
}

// UpdateClientProduct changes a client service. It is a write: never retried.
func (c *Client) UpdateClientProduct(ctx context.Context, req UpdateClientProductRequest) (*UpdateClientProductResponse, error) {
	var resp UpdateClientProductResponse
	if err := c.send(ctx, "UpdateClientProduct", &req, write, &resp); err != nil {
		return nil, err
	}
	return &resp, nil
}

// send encodes req and calls action.
func (c *Client) send(ctx context.Context, action string, req any, k kind, out any) error {
	form, err := encodeForm(req)
	if err != nil {
		return &RequestError{Action: action, Err: err}
	}
	return c.call(ctx, action, form, k, out)
}
