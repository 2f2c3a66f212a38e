package tools

import "testing"

// TestSchemaRefusalsSendNothing: statuses, billing cycles and dates are
// refused by the input schema, before any request.
func TestSchemaRefusalsSendNothing(t *testing.T) {
	w := newCounted(t, nil)
	for _, c := range []struct{ tool, args, want string }{
		{"update_client_product", `{"serviceid": 2, "status": "Paused"}`, `argument "status": must be one of "Pending", "Active", "Suspended", "Terminated", "Cancelled", "Fraud", "Completed"`},
		{"update_client_product", `{"serviceid": 2, "billingcycle": "Weekly"}`, `argument "billingcycle": must be one of "Free Account", "One Time", "Monthly"`},
		{"update_client_product", `{"serviceid": 2, "nextduedate": "2026-02-30"}`, `argument "nextduedate": expected a real date YYYY-MM-DD, got "2026-02-30"`},
		{"update_client_product", `{"serviceid": 2, "overidesuspenduntil": "2026-13-01"}`, `argument "overidesuspenduntil": expected a real date`},
		{"update_client_product", `{"serviceid": 2, "regdate": "01/02/2026"}`, `argument "regdate": expected a real date`},
		{"update_client_product", `{"serviceid": 4, "customfields": {"Hostname": "x"}}`, `argument "customfields": "Hostname" is not an id (digits only)`},
		{"update_client_addon", `{"id": 1, "status": "Paused"}`, `argument "status": must be one of "Pending", "Active"`},
		{"update_client_addon", `{"id": 1, "billingcycle": "Weekly"}`, `argument "billingcycle": must be one of`},
		{"update_client_addon", `{"id": 1, "terminationdate": "2025-02-29"}`, `argument "terminationdate": expected a real date`},
		{"upgrade_product", `{"serviceid": 3, "paymentmethod": "paypal", "type": "product", "newproductid": 2, "newproductbillingcycle": "Fortnightly"}`,
			`argument "newproductbillingcycle": must be one of "free", "onetime", "monthly"`},
		{"upgrade_product", `{"serviceid": 3, "paymentmethod": "paypal", "type": "addon"}`, `argument "type": must be one of "product", "configoptions"`},
	} {
		w.refused(t, c.tool, c.args, nil, c.want)
	}
}
