package sandbox

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

const unpaidUpgradeMessage = "Unable to accept upgrade order. Previous upgrade invoice for service is still unpaid."

// upgradeProduct implements UpgradeProduct: a quote (calconly) or an upgrade
// order for a product or configurable options change.
//
// WHMCS documents four errors ("Service ID Not Found", the unpaid previous
// upgrade, "Invalid Payment Method. Valid options include ...", "Invalid
// Upgrade Type") and the sandbox answers no other. The price is WHMCS's
// proration: (new recurring - old recurring) / totaldays x daysuntilrenewal,
// rounded to cents half away from zero, where daysuntilrenewal counts
// calendar days from today (the sandbox clock) to the service's next due date
// and totaldays is the length of the service's billing cycle. Choices where
// WHMCS's docs are silent (doc.go lists each with its evidence):
//   - Cycle lengths: Monthly 30, Quarterly 90, Semi-Annually 180, Annually
//     365, Biennially 730, Triennially 1095 days (the docs show 30 for
//     Monthly).
//   - Old recurring is the service's current recurring amount; new recurring
//     is the new product's price for the new cycle plus the service's
//     configurable option selections that also apply to the new product. A
//     cycle the new product does not sell (-1.00), and a free product, price
//     at 0.00.
//   - When the billing cycle changes, each side is prorated over its own
//     cycle: new/newdays x days - old/olddays x days; totaldays reports the
//     current cycle's length.
//   - A next due date in the past counts as 0 days. A service on a
//     non-recurring cycle (Free Account, One Time) pays the full difference,
//     with daysuntilrenewal and totaldays 0.
//   - calconly is PHP truthiness: "" and "0" quote nothing, anything else
//     ("false" included) is a quote.
//   - newproductbillingcycle defaults to the service's cycle and is echoed as
//     given (or in short form, "monthly", when defaulted); a name that is not
//     one of WHMCS's cycles counts as not given (and is still echoed).
//   - newproductid that names no product counts as not given: the service's
//     own product. Any product may be the new one (the product's upgrade
//     list is the client area's business), the service's own product
//     included; with its own cycle too the price is 0.00.
//   - promocode that is not a promotion valid for upgrades is ignored;
//     Percentage or Fixed Amount come off a positive price.
//   - calconly replies end with "upgradeinprogress" (the docs' response
//     parameter): true while an upgrade invoice of the service is unpaid. A
//     quote is still given then; only a real upgrade is refused.
//   - A real upgrade creates an order and an upgrade record. When money is
//     due (price > 0) it also creates an unpaid invoice and the change waits
//     for AddInvoicePayment; otherwise it applies at once (invoiceid null)
//     and no credit is issued for a negative price.
//   - The next due date does not move, except from a free product (or the
//     Free Account cycle) to a recurring cycle: it becomes one billing cycle
//     after the day the upgrade was ordered, when the upgrade applies.
//   - The service's status is not checked: a Suspended service can be
//     upgraded through the API as an admin could.
//   - type=configoptions takes configoptions[ID]=VALUE (the choice id for
//     dropdown and radio options, the quantity for quantity and yes/no
//     options) for options of the service's product, prorated over the
//     service's cycle; other ids are ignored and values are stored as given,
//     unchecked against the option's choices and bounds. Its reply has the
//     same keys, with the product unchanged, plus "configoptions": [{id,
//     name, oldvalue, newvalue}] (the options that change) before "price".
func upgradeProduct(c *call) (object, error) {
	svc, err := c.loadService(c.p.id("serviceid"))
	if err != nil {
		return nil, err
	}
	calconly := c.p.optBool("calconly")
	pending, err := c.pendingUpgradeInvoice(svc.ID)
	if err != nil {
		return nil, err
	}
	if pending && !calconly {
		return nil, apiError(unpaidUpgradeMessage)
	}
	gw := c.p.get("paymentmethod")
	if err := c.checkPaymentMethod(gw); err != nil {
		return nil, err
	}
	typ := strings.ToLower(strings.TrimSpace(c.p.get("type")))
	if typ != "product" && typ != "configoptions" {
		return nil, apiError("Invalid Upgrade Type")
	}
	promo, err := c.upgradePromotion()
	if err != nil {
		return nil, err
	}
	cur, err := c.clientCurrency(svc.UserID)
	if err != nil {
		return nil, err
	}
	oldProd, _, err := c.loadProduct(svc.PID)
	if err != nil {
		return nil, err
	}
	oldCycle, ok := lookupCycle(svc.BillingCycle)
	if !ok {
		return nil, fmt.Errorf("service %d has an unknown billing cycle %q", svc.ID, svc.BillingCycle)
	}

	var q *quote
	if typ == "product" {
		q, err = c.quoteProduct(svc, oldCycle, cur)
	} else {
		q, err = c.quoteConfigOptions(svc, oldCycle, cur)
	}
	if err != nil {
		return nil, err
	}
	q.days, q.totalDays = daysUntilRenewal(c, svc, oldCycle)
	q.price = proratedPrice(svc.Amount, oldCycle, q.newRecurring, q.newCycle, q.days)
	if promo != nil && q.price > 0 {
		q.price = promo.apply(q.price)
	}

	reply := successReply()
	reply.set("oldproductid", strconv.FormatInt(oldProd.ID, 10))
	reply.set("oldproductname", oldProd.Name)
	reply.set("newproductid", q.newProduct.ID)
	reply.set("newproductname", q.newProduct.Name)
	reply.set("daysuntilrenewal", q.days)
	reply.set("totaldays", q.totalDays)
	reply.set("newproductbillingcycle", q.cycleEcho)
	if typ == "configoptions" {
		reply.set("configoptions", q.optionChanges)
	}
	reply.set("price", cur.format(q.price))
	if calconly {
		reply.set("upgradeinprogress", pending)
		return reply, nil
	}

	ord, err := c.placeUpgrade(svc, gw, typ, q)
	if err != nil {
		return nil, err
	}
	c.wrote = true
	reply.set("id", strconv.FormatInt(ord.upgradeID, 10))
	reply.set("orderid", ord.orderID)
	reply.set("order_number", ord.orderNumber)
	if ord.invoiceID == 0 {
		reply.set("invoiceid", nil)
	} else {
		reply.set("invoiceid", ord.invoiceID)
	}
	return reply, nil
}

// quote is a computed upgrade.
type quote struct {
	newProduct    product
	newCycle      cycle
	cycleEcho     string
	newRecurring  cents
	days          int
	totalDays     int
	price         cents
	optionChanges []object            // type=configoptions only
	originalValue string              // tblupgrades.originalvalue
	newValue      string              // tblupgrades.newvalue
	newSelections map[int64]selection // type=configoptions only
}

// quoteProduct prices a change of product (and maybe cycle).
func (c *call) quoteProduct(svc *service, oldCycle cycle, cur currency) (*quote, error) {
	np, found, err := c.loadProduct(int64(c.p.id("newproductid")))
	if err != nil {
		return nil, err
	}
	if !found {
		if np, _, err = c.loadProduct(svc.PID); err != nil {
			return nil, err
		}
	}
	q := &quote{newProduct: np, newCycle: oldCycle, cycleEcho: oldCycle.Key}
	if c.p.has("newproductbillingcycle") {
		q.cycleEcho = c.p.get("newproductbillingcycle")
		if cy, ok := lookupCycle(q.cycleEcho); ok {
			q.newCycle = cy
		}
	}
	prices, err := c.loadPrices("product", np.ID, cur.ID)
	if err != nil {
		return nil, err
	}
	base, ok := prices.recurring(q.newCycle)
	if !ok || np.PayType == "free" {
		base = 0
	}
	sels, err := c.serviceSelections(svc.ID)
	if err != nil {
		return nil, err
	}
	opts, err := c.configRecurring(np.ID, sels, q.newCycle, cur.ID)
	if err != nil {
		return nil, err
	}
	q.newRecurring = base + opts
	q.originalValue = strconv.FormatInt(svc.PID, 10)
	q.newValue = strconv.FormatInt(np.ID, 10)
	return q, nil
}

// quoteConfigOptions prices a change of configurable options.
func (c *call) quoteConfigOptions(svc *service, cy cycle, cur currency) (*quote, error) {
	prod, _, err := c.loadProduct(svc.PID)
	if err != nil {
		return nil, err
	}
	q := &quote{newProduct: prod, newCycle: cy, cycleEcho: cy.Key}
	given := map[string]string{}
	for _, kv := range c.p.indexed("configoptions") {
		given[kv.key] = kv.val
	}
	opts, err := c.productConfigOptions(svc.PID)
	if err != nil {
		return nil, err
	}
	current, err := c.serviceSelections(svc.ID)
	if err != nil {
		return nil, err
	}
	next := map[int64]selection{}
	for id, s := range current {
		next[id] = s
	}
	changes := []object{}
	changed := map[int64]selection{}
	for _, opt := range opts {
		v, ok := given[strconv.FormatInt(opt.ID, 10)]
		if !ok {
			continue
		}
		sel := plainSelection(opt, phpInt(v))
		old, had := current[opt.ID]
		if had && old == sel {
			continue
		}
		next[opt.ID] = sel
		changed[opt.ID] = sel
		changes = append(changes, object{
			{"id", strconv.FormatInt(opt.ID, 10)},
			{"name", opt.Name},
			{"oldvalue", selectionValue(opt, old, had)},
			{"newvalue", selectionValue(opt, sel, true)},
		})
	}
	oldOpts, err := c.configRecurring(svc.PID, current, cy, cur.ID)
	if err != nil {
		return nil, err
	}
	newOpts, err := c.configRecurring(svc.PID, next, cy, cur.ID)
	if err != nil {
		return nil, err
	}
	q.newRecurring = svc.Amount + newOpts - oldOpts
	if q.newRecurring < 0 {
		q.newRecurring = 0
	}
	q.optionChanges = changes
	q.newSelections = changed
	orig := map[int64]selection{}
	for id := range changed {
		if s, ok := current[id]; ok {
			orig[id] = s
		}
	}
	q.originalValue = encodeSelections(orig)
	q.newValue = encodeSelections(changed)
	return q, nil
}

// daysUntilRenewal returns the days from today to the service's next due date
// (0 when past or unset) and the cycle's length; both 0 for non-recurring
// cycles.
func daysUntilRenewal(c *call, svc *service, cy cycle) (days, total int) {
	if !cy.Recurring() {
		return 0, 0
	}
	due, ok := parseDate(svc.NextDueDate)
	if !ok {
		return 0, cy.Days
	}
	days = daysBetween(c.today, due)
	if days < 0 {
		days = 0
	}
	return days, cy.Days
}

// proratedPrice computes the upgrade price (see upgradeProduct).
func proratedPrice(oldRec cents, oldCycle cycle, newRec cents, newCycle cycle, days int) cents {
	if !oldCycle.Recurring() {
		return newRec - oldRec
	}
	if !newCycle.Recurring() || newCycle.Days == oldCycle.Days {
		return prorate(newRec-oldRec, days, oldCycle.Days)
	}
	// Different cycle lengths: new*days/newDays - old*days/oldDays, exactly.
	od, nd := int64(oldCycle.Days), int64(newCycle.Days)
	num := (int64(newRec)*od - int64(oldRec)*nd) * int64(days)
	return roundDiv(num, od*nd)
}

// roundDiv returns num/den rounded half away from zero (den > 0).
func roundDiv(num, den int64) cents {
	q, r := num/den, num%den
	if 2*abs64(r) >= den {
		if num < 0 {
			q--
		} else {
			q++
		}
	}
	return cents(q)
}

func abs64(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}

// pendingUpgradeInvoice reports whether an upgrade of the service waits for
// an unpaid invoice.
func (c *call) pendingUpgradeInvoice(serviceID int64) (bool, error) {
	return exists(c.ctx, c.tx, `SELECT 1 FROM tblupgrades u
		JOIN tblinvoiceitems ii ON ii.type = 'Upgrade' AND ii.relid = u.id
		JOIN tblinvoices i ON i.id = ii.invoiceid
		WHERE u.relid = ? AND i.status = 'Unpaid' LIMIT 1`, serviceID)
}

// promotion is an upgrade promotion.
type promotion struct {
	Type  string
	Value float64
}

// apply takes the promotion off a positive price.
func (p promotion) apply(price cents) cents {
	var off cents
	if p.Type == "Percentage" {
		off = cents(math.Round(float64(price) * p.Value / 100))
	} else {
		off = toCents(p.Value)
	}
	if off > price {
		off = price
	}
	return price - off
}

// upgradePromotion reads promocode: nil when it is not given or is not a
// promotion valid for upgrades.
func (c *call) upgradePromotion() (*promotion, error) {
	if !c.p.has("promocode") {
		return nil, nil
	}
	var p promotion
	err := c.tx.QueryRowContext(c.ctx, `SELECT type, value FROM tblpromotions
		WHERE code = ? COLLATE NOCASE AND upgrades = 1`, strings.TrimSpace(c.p.get("promocode"))).Scan(&p.Type, &p.Value)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// upgradeOrder is what placeUpgrade created.
type upgradeOrder struct {
	upgradeID, orderID, invoiceID int64
	orderNumber                   string
}

// placeUpgrade records the order, the upgrade and, when money is due, the
// invoice; otherwise it applies the upgrade at once.
func (c *call) placeUpgrade(svc *service, gw, typ string, q *quote) (*upgradeOrder, error) {
	now := c.now.Format(dateTimeLayout)
	today := c.today.Format(dateLayout)
	due := q.price
	if due < 0 {
		due = 0
	}
	res, err := c.tx.ExecContext(c.ctx, `INSERT INTO tblorders (userid, date, amount, paymentmethod, status)
		VALUES (?, ?, ?, ?, 'Pending')`, svc.UserID, now, due.float(), gw)
	if err != nil {
		return nil, err
	}
	o := &upgradeOrder{}
	if o.orderID, err = res.LastInsertId(); err != nil {
		return nil, err
	}
	o.orderNumber = orderNumber(o.orderID)
	if _, err := c.tx.ExecContext(c.ctx, "UPDATE tblorders SET ordernum = ? WHERE id = ?", o.orderNumber, o.orderID); err != nil {
		return nil, err
	}
	upType := "package"
	if typ == "configoptions" {
		upType = "configoptions"
	}
	res, err = c.tx.ExecContext(c.ctx, `INSERT INTO tblupgrades (userid, orderid, type, date, relid, originalvalue,
		newvalue, newcycle, amount, days_remaining, total_days_in_cycle, new_recurring_amount, recurringchange, status, paid)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'Pending', 'N')`,
		svc.UserID, o.orderID, upType, today, svc.ID, q.originalValue, q.newValue, q.newCycle.Name,
		q.price.float(), q.days, q.totalDays, q.newRecurring.float(), (q.newRecurring - svc.Amount).float())
	if err != nil {
		return nil, err
	}
	if o.upgradeID, err = res.LastInsertId(); err != nil {
		return nil, err
	}

	if q.price <= 0 {
		if err := c.applyUpgrade(o.upgradeID); err != nil {
			return nil, err
		}
		return o, nil
	}
	res, err = c.tx.ExecContext(c.ctx, `INSERT INTO tblinvoices (userid, date, duedate, subtotal, total, status, paymentmethod)
		VALUES (?, ?, ?, ?, ?, 'Unpaid', ?)`, svc.UserID, today, today, q.price.float(), q.price.float(), gw)
	if err != nil {
		return nil, err
	}
	if o.invoiceID, err = res.LastInsertId(); err != nil {
		return nil, err
	}
	desc := fmt.Sprintf("Upgrade: %s (%s) - %s", q.newProduct.Name, q.newCycle.Name, svc.Domain)
	if typ == "configoptions" {
		desc = fmt.Sprintf("Configurable options upgrade: %s - %s", q.newProduct.Name, svc.Domain)
	}
	if _, err := c.tx.ExecContext(c.ctx, `INSERT INTO tblinvoiceitems (invoiceid, userid, type, relid, description,
		amount, duedate, paymentmethod) VALUES (?, ?, 'Upgrade', ?, ?, ?, ?, ?)`,
		o.invoiceID, svc.UserID, o.upgradeID, desc, q.price.float(), today, gw); err != nil {
		return nil, err
	}
	if _, err := c.tx.ExecContext(c.ctx, "UPDATE tblorders SET invoiceid = ? WHERE id = ?", o.invoiceID, o.orderID); err != nil {
		return nil, err
	}
	return o, nil
}

// applyUpgrade carries out a recorded upgrade on its service: new product
// and cycle (or new option selections) and the new recurring amount. A
// service upgraded from a free product (or the Free Account cycle) to a
// recurring cycle is next due one billing cycle after the upgrade's date, as
// WHMCS's upgrades documentation says. The upgrade is then Completed and its
// order Active.
func (c *call) applyUpgrade(upgradeID int64) error {
	var serviceID, orderID int64
	var typ, date, newValue, newCycle string
	var newRecurring float64
	err := c.tx.QueryRowContext(c.ctx, `SELECT relid, orderid, type, date, newvalue, newcycle, new_recurring_amount
		FROM tblupgrades WHERE id = ?`, upgradeID).Scan(&serviceID, &orderID, &typ, &date, &newValue, &newCycle, &newRecurring)
	if err != nil {
		return err
	}
	switch typ {
	case "package":
		var oldCycle, oldPayType string
		if err := c.tx.QueryRowContext(c.ctx, `SELECT h.billingcycle, COALESCE(p.paytype, '') FROM tblhosting h
			LEFT JOIN tblproducts p ON p.id = h.packageid WHERE h.id = ?`, serviceID).Scan(&oldCycle, &oldPayType); err != nil {
			return err
		}
		if _, err := c.tx.ExecContext(c.ctx, "UPDATE tblhosting SET packageid = ?, billingcycle = ?, amount = ? WHERE id = ?",
			newValue, newCycle, newRecurring, serviceID); err != nil {
			return err
		}
		cy, _ := lookupCycle(newCycle)
		from, ok := parseDate(date)
		if (oldPayType == "free" || oldCycle == "Free Account") && cy.Recurring() && ok {
			due := from.AddDate(0, cy.Months, 0).Format(dateLayout)
			if _, err := c.tx.ExecContext(c.ctx, "UPDATE tblhosting SET nextduedate = ?, nextinvoicedate = ? WHERE id = ?",
				due, due, serviceID); err != nil {
				return err
			}
		}
	case "configoptions":
		sels, err := decodeSelections(newValue)
		if err != nil {
			return fmt.Errorf("upgrade %d: %w", upgradeID, err)
		}
		if err := c.saveSelections(serviceID, sels); err != nil {
			return err
		}
		if _, err := c.tx.ExecContext(c.ctx, "UPDATE tblhosting SET amount = ? WHERE id = ?", newRecurring, serviceID); err != nil {
			return err
		}
	default:
		return fmt.Errorf("upgrade %d: unknown type %q", upgradeID, typ)
	}
	if _, err := c.tx.ExecContext(c.ctx, "UPDATE tblupgrades SET status = 'Completed', paid = 'Y' WHERE id = ?", upgradeID); err != nil {
		return err
	}
	_, err = c.tx.ExecContext(c.ctx, "UPDATE tblorders SET status = 'Active' WHERE id = ?", orderID)
	return err
}

// encodeSelections stores selections in tblupgrades as JSON
// {"configid": {"optionid": N, "qty": N}}, keys sorted.
func encodeSelections(sels map[int64]selection) string {
	ids := make([]int64, 0, len(sels))
	for id := range sels {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	o := object{}
	for _, id := range ids {
		o.set(strconv.FormatInt(id, 10), object{{"optionid", sels[id].OptionID}, {"qty", sels[id].Qty}})
	}
	b, _ := o.MarshalJSON()
	return string(b)
}

// decodeSelections reads encodeSelections's format.
func decodeSelections(s string) (map[int64]selection, error) {
	var raw map[string]struct {
		OptionID int64 `json:"optionid"`
		Qty      int64 `json:"qty"`
	}
	if err := json.Unmarshal([]byte(s), &raw); err != nil {
		return nil, err
	}
	out := map[int64]selection{}
	for k, v := range raw {
		id, err := strconv.ParseInt(k, 10, 64)
		if err != nil {
			return nil, err
		}
		out[id] = selection{OptionID: v.OptionID, Qty: v.Qty}
	}
	return out, nil
}
