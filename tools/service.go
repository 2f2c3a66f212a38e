package tools

import "github.com/whmcs-mcp/whmcs-mcp/whmcs"

// Service is a client service as get_clients_products shows it to a model:
// WHMCS's field names and values, without what carries nothing. Beyond
// WHMCS's "none" values (empty strings, 0 ids and usage, 0.00, 0000-00-00),
// it leaves out what only repeats another field (translated names equal to
// the name; a first payment equal to the recurring amount; a quantity of 1)
// and groups the four server fields. The password is always [redacted].
type Service struct {
	ID                  whmcs.Int                 `json:"id" jsonschema_description:"Service id (serviceid of the other tools)."`
	Qty                 whmcs.Int                 `json:"qty,omitzero" jsonschema_description:"Quantity; left out when 1."`
	ClientID            whmcs.Int                 `json:"clientid,omitzero" jsonschema_description:"Owning client id."`
	OrderID             whmcs.Int                 `json:"orderid,omitzero" jsonschema_description:"Order id."`
	OrderNumber         whmcs.String              `json:"ordernumber,omitzero" jsonschema_description:"Order number."`
	PID                 whmcs.Int                 `json:"pid,omitzero" jsonschema_description:"Product id."`
	RegDate             whmcs.Date                `json:"regdate,omitzero" jsonschema_description:"Registration date."`
	Name                whmcs.String              `json:"name,omitzero" jsonschema_description:"Product name."`
	TranslatedName      whmcs.String              `json:"translated_name,omitzero" jsonschema_description:"Product name in the client's language, when it differs."`
	GroupName           whmcs.String              `json:"groupname,omitzero" jsonschema_description:"Product group name."`
	TranslatedGroupName whmcs.String              `json:"translated_groupname,omitzero" jsonschema_description:"Product group name in the client's language, when it differs."`
	Domain              whmcs.String              `json:"domain,omitzero" jsonschema_description:"Domain name."`
	DedicatedIP         whmcs.String              `json:"dedicatedip,omitzero" jsonschema_description:"Dedicated IP address."`
	Server              Server                    `json:"server,omitzero" jsonschema_description:"The server the service is on."`
	SuspensionReason    whmcs.String              `json:"suspensionreason,omitzero" jsonschema_description:"Why the service is suspended."`
	FirstPaymentAmount  whmcs.Float               `json:"firstpaymentamount,omitzero" jsonschema_description:"First payment amount; left out when equal to recurringamount."`
	RecurringAmount     whmcs.Float               `json:"recurringamount,omitzero" jsonschema_description:"Recurring amount per billing cycle."`
	PaymentMethod       whmcs.String              `json:"paymentmethod,omitzero" jsonschema_description:"Payment gateway module name."`
	PaymentMethodName   whmcs.String              `json:"paymentmethodname,omitzero" jsonschema_description:"Payment gateway display name."`
	BillingCycle        whmcs.String              `json:"billingcycle,omitzero" jsonschema_description:"Billing cycle."`
	NextDueDate         whmcs.Date                `json:"nextduedate,omitzero" jsonschema_description:"Next due date."`
	Status              whmcs.String              `json:"status,omitzero" jsonschema_description:"Service status."`
	Username            whmcs.String              `json:"username,omitzero" jsonschema_description:"Service username."`
	Password            whmcs.String              `json:"password,omitzero" jsonschema_description:"Always [redacted] when WHMCS has a password."`
	SubscriptionID      whmcs.String              `json:"subscriptionid,omitzero" jsonschema_description:"Gateway subscription id."`
	PromoID             whmcs.Int                 `json:"promoid,omitzero" jsonschema_description:"Promotion id."`
	OverideAutoSuspend  whmcs.Bool                `json:"overideautosuspend,omitzero" jsonschema_description:"Automatic suspension is overridden."`
	OverideSuspendUntil whmcs.Date                `json:"overidesuspenduntil,omitzero" jsonschema_description:"Automatic suspension is overridden until this date."`
	NS1                 whmcs.String              `json:"ns1,omitzero" jsonschema_description:"First nameserver."`
	NS2                 whmcs.String              `json:"ns2,omitzero" jsonschema_description:"Second nameserver."`
	AssignedIPs         whmcs.String              `json:"assignedips,omitzero" jsonschema_description:"Assigned IP addresses."`
	Notes               whmcs.String              `json:"notes,omitzero" jsonschema_description:"Admin notes."`
	DiskUsage           whmcs.Int                 `json:"diskusage,omitzero" jsonschema_description:"Disk usage in MB."`
	DiskLimit           whmcs.Int                 `json:"disklimit,omitzero" jsonschema_description:"Disk limit in MB."`
	BwUsage             whmcs.Int                 `json:"bwusage,omitzero" jsonschema_description:"Bandwidth usage in MB."`
	BwLimit             whmcs.Int                 `json:"bwlimit,omitzero" jsonschema_description:"Bandwidth limit in MB."`
	LastUpdate          whmcs.Date                `json:"lastupdate,omitzero" jsonschema_description:"When usage was last updated."`
	CustomFields        []whmcs.CustomFieldValue  `json:"customfields,omitempty" jsonschema_description:"Custom field values."`
	ConfigOptions       []whmcs.ConfigOptionValue `json:"configoptions,omitempty" jsonschema_description:"Configurable option values."`
}

// Server is the server a service is on.
type Server struct {
	ID       whmcs.Int    `json:"id,omitzero" jsonschema_description:"Server id (serverid of update_client_product)."`
	Name     whmcs.String `json:"name,omitzero" jsonschema_description:"Server name."`
	Hostname whmcs.String `json:"hostname,omitzero" jsonschema_description:"Server hostname."`
	IP       whmcs.String `json:"ip,omitzero" jsonschema_description:"Server IP address."`
}

// serviceOf shapes a WHMCS service for the model.
func serviceOf(p whmcs.ClientProduct) Service {
	s := Service{
		ID: p.ID, Qty: p.Qty, ClientID: p.ClientID, OrderID: p.OrderID, OrderNumber: p.OrderNumber, PID: p.PID,
		RegDate: p.RegDate, Name: p.Name, TranslatedName: p.TranslatedName, GroupName: p.GroupName,
		TranslatedGroupName: p.TranslatedGroupName, Domain: p.Domain, DedicatedIP: p.DedicatedIP,
		SuspensionReason: p.SuspensionReason, FirstPaymentAmount: p.FirstPaymentAmount, RecurringAmount: p.RecurringAmount,
		PaymentMethod: p.PaymentMethod, PaymentMethodName: p.PaymentMethodName, BillingCycle: p.BillingCycle,
		NextDueDate: p.NextDueDate, Status: p.Status, Username: p.Username, SubscriptionID: p.SubscriptionID,
		PromoID: p.PromoID, OverideAutoSuspend: p.OverideAutoSuspend, OverideSuspendUntil: p.OverideSuspendUntil,
		NS1: p.NS1, NS2: p.NS2, AssignedIPs: p.AssignedIPs, Notes: p.Notes,
		DiskUsage: p.DiskUsage, DiskLimit: p.DiskLimit, BwUsage: p.BwUsage, BwLimit: p.BwLimit,
		LastUpdate: p.LastUpdate, CustomFields: p.CustomFields, ConfigOptions: p.ConfigOptions,
	}
	if p.Password != "" {
		s.Password = redacted
	}
	if s.Qty == 1 {
		s.Qty = 0
	}
	if s.TranslatedName == s.Name {
		s.TranslatedName = ""
	}
	if s.TranslatedGroupName == s.GroupName {
		s.TranslatedGroupName = ""
	}
	if s.FirstPaymentAmount == s.RecurringAmount {
		s.FirstPaymentAmount = 0
	}
	for i := range s.CustomFields {
		if f := &s.CustomFields[i]; f.TranslatedName == f.Name {
			f.TranslatedName = ""
		}
	}
	if p.ServerID != 0 || p.ServerName != "" || p.ServerHostname != "" || p.ServerIP != "" {
		s.Server = Server{ID: p.ServerID, Name: p.ServerName, Hostname: p.ServerHostname, IP: p.ServerIP}
	}
	return s
}
