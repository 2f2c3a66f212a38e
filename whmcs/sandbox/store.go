package sandbox

import (
	"database/sql"
	"errors"
	"strings"
)

// Helpers that read the catalog and services inside a call's transaction.

// gateway is a configured payment method.
type gateway struct{ Module, Name string }

// gateways returns the configured payment gateways in display order.
func (c *call) gateways() ([]gateway, error) {
	rows, err := c.tx.QueryContext(c.ctx, "SELECT gateway, name FROM tblpaymentgateways ORDER BY sortorder, gateway")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []gateway
	for rows.Next() {
		var g gateway
		if err := rows.Scan(&g.Module, &g.Name); err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

// checkPaymentMethod returns WHMCS's error for a payment method that is not
// a configured gateway, which UpgradeProduct documents. Gateway names are
// matched exactly (system names are lower case).
func (c *call) checkPaymentMethod(name string) error {
	gws, err := c.gateways()
	if err != nil {
		return err
	}
	modules := make([]string, len(gws))
	for i, g := range gws {
		if g.Module == name {
			return nil
		}
		modules[i] = g.Module
	}
	return apiError("Invalid Payment Method. Valid options include " + strings.Join(modules, ","))
}

// currency is a currency's display data.
type currency struct {
	ID             int64
	Code           string
	Prefix, Suffix string
}

// format shows an amount the way WHMCS's formatCurrency does: "$-8.67 USD".
func (cur currency) format(v cents) string { return cur.Prefix + v.String() + cur.Suffix }

// clientCurrency returns the currency of client userid.
func (c *call) clientCurrency(userid int64) (currency, error) {
	var cur currency
	err := c.tx.QueryRowContext(c.ctx, `SELECT cu.id, cu.code, cu.prefix, cu.suffix
		FROM tblclients cl JOIN tblcurrencies cu ON cu.id = cl.currency WHERE cl.id = ?`, userid).
		Scan(&cur.ID, &cur.Code, &cur.Prefix, &cur.Suffix)
	return cur, err
}

// service is a row of tblhosting.
type service struct {
	ID, UserID, OrderID, PID, ServerID, Qty, PromoID int64
	RegDate, Domain, PaymentMethod, BillingCycle     string
	NextDueDate, NextInvoiceDate, TerminationDate    string
	Status, Username, Password, Notes                string
	SubscriptionID, SuspendReason                    string
	OverideAutoSuspend, OverideSuspendUntil          string
	DedicatedIP, AssignedIPs, NS1, NS2, LastUpdate   string
	FirstPayment, Amount                             cents
	DiskUsage, DiskLimit, BWUsage, BWLimit           int64
}

// loadService reads service id, or returns WHMCS's "Service ID Not Found".
func (c *call) loadService(id int) (*service, error) {
	var s service
	var first, amount float64
	err := c.tx.QueryRowContext(c.ctx, `SELECT id, userid, orderid, packageid, server, qty, promoid,
		regdate, domain, paymentmethod, billingcycle, nextduedate, nextinvoicedate, termination_date,
		domainstatus, username, password, notes, subscriptionid, suspendreason, overideautosuspend,
		overidesuspenduntil, dedicatedip, assignedips, ns1, ns2, lastupdate, firstpaymentamount, amount,
		diskusage, disklimit, bwusage, bwlimit FROM tblhosting WHERE id = ?`, id).Scan(
		&s.ID, &s.UserID, &s.OrderID, &s.PID, &s.ServerID, &s.Qty, &s.PromoID,
		&s.RegDate, &s.Domain, &s.PaymentMethod, &s.BillingCycle, &s.NextDueDate, &s.NextInvoiceDate, &s.TerminationDate,
		&s.Status, &s.Username, &s.Password, &s.Notes, &s.SubscriptionID, &s.SuspendReason, &s.OverideAutoSuspend,
		&s.OverideSuspendUntil, &s.DedicatedIP, &s.AssignedIPs, &s.NS1, &s.NS2, &s.LastUpdate, &first, &amount,
		&s.DiskUsage, &s.DiskLimit, &s.BWUsage, &s.BWLimit)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apiError("Service ID Not Found")
	}
	if err != nil {
		return nil, err
	}
	s.FirstPayment, s.Amount = toCents(first), toCents(amount)
	return &s, nil
}

// product is a row of tblproducts.
type product struct {
	ID, GID                                  int64
	Type, Name, Description, PayType, Module string
}

// loadProduct reads product id; ok is false when there is none.
func (c *call) loadProduct(id int64) (p product, ok bool, err error) {
	err = c.tx.QueryRowContext(c.ctx, `SELECT id, gid, type, name, description, paytype, servertype
		FROM tblproducts WHERE id = ?`, id).Scan(&p.ID, &p.GID, &p.Type, &p.Name, &p.Description, &p.PayType, &p.Module)
	if errors.Is(err, sql.ErrNoRows) {
		return p, false, nil
	}
	return p, err == nil, err
}

// priceColumns are tblpricing's amount columns in table order.
var priceColumns = []string{
	"msetupfee", "qsetupfee", "ssetupfee", "asetupfee", "bsetupfee", "tsetupfee",
	"monthly", "quarterly", "semiannually", "annually", "biennially", "triennially",
}

// prices is one tblpricing row: column name -> amount.
type prices map[string]cents

// loadPrices reads the tblpricing row of (typ, relid) in currency cur. A
// missing row reads as every cycle disabled.
func (c *call) loadPrices(typ string, relid, cur int64) (prices, error) {
	vals := make([]float64, len(priceColumns))
	ptrs := make([]any, len(vals))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	err := c.tx.QueryRowContext(c.ctx, "SELECT "+strings.Join(priceColumns, ", ")+
		" FROM tblpricing WHERE type = ? AND relid = ? AND currency = ?", typ, relid, cur).Scan(ptrs...)
	out := prices{}
	if errors.Is(err, sql.ErrNoRows) {
		for _, col := range priceColumns {
			out[col] = disabledPrice
		}
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	for i, col := range priceColumns {
		out[col] = toCents(vals[i])
	}
	return out, nil
}

// recurring returns the recurring price for cycle cy; ok is false when the
// cycle is disabled (-1.00, or any negative amount). Free Account costs 0.
func (p prices) recurring(cy cycle) (cents, bool) {
	if cy.Key == "free" {
		return 0, true
	}
	v := p[cy.PriceColumn()]
	return v, v >= 0
}
