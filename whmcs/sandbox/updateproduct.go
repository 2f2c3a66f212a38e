package sandbox

import (
	"encoding/base64"
	"sort"
	"strconv"
	"strings"

	"github.com/whmcs-mcp/whmcs-mcp/internal/phpserial"
)

// unsetFields maps the items UpdateClientProduct's unset[] accepts (WHMCS's
// documented list) to tblhosting columns.
var unsetFields = []struct{ item, column string }{
	{"domain", "domain"},
	{"serviceusername", "username"},
	{"servicepassword", "password"},
	{"subscriptionid", "subscriptionid"},
	{"ns1", "ns1"},
	{"ns2", "ns2"},
	{"dedicatedip", "dedicatedip"},
	{"assignedips", "assignedips"},
	{"notes", "notes"},
	{"suspendreason", "suspendreason"},
}

// textFields are UpdateClientProduct's free-text parameters and their
// tblhosting columns.
var textFields = []struct{ param, column string }{
	{"domain", "domain"},
	{"subscriptionid", "subscriptionid"},
	{"notes", "notes"},
	{"serviceusername", "username"},
	{"servicepassword", "password"},
	{"ns1", "ns1"},
	{"ns2", "ns2"},
	{"dedicatedip", "dedicatedip"},
	{"assignedips", "assignedips"},
	{"suspendreason", "suspendreason"},
}

// updateClientProduct implements UpdateClientProduct.
//
// WHMCS documents one error, "Service ID Not Found", and the sandbox answers
// no other: every other parameter is stored as WHMCS most plausibly stores it
// (doc.go lists each choice and its evidence). The whole update is one
// transaction. Choices where WHMCS's docs are silent:
//   - Values are read as PHP casts them and stored as WHMCS's MySQL columns
//     keep them: ids, usage numbers and amounts by their leading number
//     (negative ones kept), dates as given when they are real Y-m-d dates and
//     0000-00-00 otherwise; a known status or billing cycle in any case (and
//     short forms of cycles) with WHMCS's spelling, any other as given.
//   - An unknown serverid or promoid is stored as given; an unknown pid
//     leaves the product as it is (the sandbox keeps every service on a
//     product that exists).
//   - overideautosuspend "on" (any case) sets the override; any other value
//     clears it.
//   - nextduedate also moves nextinvoicedate, as WHMCS keeps them together.
//   - Setting diskusage, disklimit, bwusage or bwlimit stamps lastupdate.
//   - unset[] clears the documented items and ignores others; it is applied
//     after the other parameters, so unset wins over a value given in the
//     same request.
//   - customfields and configoptions are base64(serialize(array)); one that
//     does not decode to an array is ignored, as are keys that are not custom
//     fields / configurable options of the service's (new) product and
//     custom field values that are not scalars. A configoptions value is the
//     chosen option id for dropdown and radio options and the quantity for
//     quantity and yes/no options, or array('optionid' => ..., 'qty' => ...)
//     for any type; it is stored as given, unchecked against the option's
//     choices and bounds.
//   - autorecalc (PHP truthiness) sets the recurring amount to the (new)
//     product's price for the (new) billing cycle in the client's currency
//     plus the prices of the service's configurable option selections,
//     ignoring recurringamount. The service's qty does not multiply prices in
//     the sandbox. When the product has no price for the cycle (an unknown
//     cycle, or one the product does not sell) the amount is left as it is.
//   - A request with only serviceid succeeds and changes nothing (WHMCS
//     answers success too); it counts in Writes like any successful update.
func updateClientProduct(c *call) (object, error) {
	svc, err := c.loadService(c.p.id("serviceid"))
	if err != nil {
		return nil, err
	}
	var sets updates
	pid := svc.PID
	cycleName := svc.BillingCycle

	if n, ok := c.p.optInt("pid"); ok {
		if _, found, err := c.loadProduct(n); err != nil {
			return nil, err
		} else if found {
			sets.add("packageid", n)
			pid = n
		}
	}
	if n, ok := c.p.optInt("serverid"); ok {
		sets.add("server", n)
	}
	if d, ok := c.p.optDate("regdate"); ok {
		sets.add("regdate", d)
	}
	if d, ok := c.p.optDate("nextduedate"); ok {
		sets.add("nextduedate", d)
		sets.add("nextinvoicedate", d)
	}
	if d, ok := c.p.optDate("terminationdate"); ok {
		sets.add("termination_date", d)
	}
	if v, ok := c.p.optAmount("firstpaymentamount"); ok {
		sets.add("firstpaymentamount", v.float())
	}
	recurring, recurringGiven := c.p.optAmount("recurringamount")
	if c.p.has("paymentmethod") {
		sets.add("paymentmethod", c.p.get("paymentmethod"))
	}
	if cy, ok := c.p.optCycleName("billingcycle"); ok {
		sets.add("billingcycle", cy)
		cycleName = cy
	}
	if st, ok := c.p.optStatus("status"); ok {
		sets.add("domainstatus", st)
	}
	for _, f := range textFields {
		if c.p.has(f.param) {
			sets.add(f.column, c.p.get(f.param))
		}
	}
	if c.p.has("overideautosuspend") {
		v := ""
		if strings.EqualFold(strings.TrimSpace(c.p.get("overideautosuspend")), "on") {
			v = "on"
		}
		sets.add("overideautosuspend", v)
	}
	if d, ok := c.p.optDate("overidesuspenduntil"); ok {
		sets.add("overidesuspenduntil", d)
	}
	usage := false
	for _, name := range []string{"diskusage", "disklimit", "bwusage", "bwlimit"} {
		if n, ok := c.p.optInt(name); ok {
			sets.add(name, n)
			usage = true
		}
	}
	if usage {
		sets.add("lastupdate", c.now.Format(dateTimeLayout))
	}
	if n, ok := c.p.optInt("promoid"); ok {
		sets.add("promoid", n)
	}
	for _, item := range c.p.list("unset") {
		for _, u := range unsetFields {
			if u.item == item {
				sets.add(u.column, "")
			}
		}
	}
	autorecalc := c.p.optBool("autorecalc")
	if recurringGiven && !autorecalc {
		sets.add("amount", recurring.float())
	}
	if err := sets.apply(c, "tblhosting", int(svc.ID)); err != nil {
		return nil, err
	}

	// Custom fields and configurable options refer to the (new) product.
	if m, ok := decodeSerialized(c.p.get("customfields")); ok {
		values, err := c.customFieldUpdates(pid, m)
		if err != nil {
			return nil, err
		}
		for id, v := range values {
			if _, err := c.tx.ExecContext(c.ctx, `INSERT INTO tblcustomfieldsvalues (fieldid, relid, value) VALUES (?, ?, ?)
				ON CONFLICT (fieldid, relid) DO UPDATE SET value = excluded.value`, id, svc.ID, v); err != nil {
				return nil, err
			}
		}
	}
	if m, ok := decodeSerialized(c.p.get("configoptions")); ok {
		sels, err := c.configOptionUpdates(pid, m)
		if err != nil {
			return nil, err
		}
		if err := c.saveSelections(svc.ID, sels); err != nil {
			return nil, err
		}
	}
	if autorecalc {
		amount, ok, err := c.serviceRecurring(svc.ID, svc.UserID, pid, cycleName)
		if err != nil {
			return nil, err
		}
		if ok {
			if _, err := c.tx.ExecContext(c.ctx, "UPDATE tblhosting SET amount = ? WHERE id = ?", amount.float(), svc.ID); err != nil {
				return nil, err
			}
		}
	}
	c.wrote = true
	reply := successReply()
	reply.set("serviceid", strconv.FormatInt(svc.ID, 10))
	return reply, nil
}

// serviceRecurring computes the recurring amount of service serviceID of
// client userid on product pid and the billing cycle named cycleName from the
// catalog: the product's price plus the prices of the service's configurable
// option selections. ok is false when the product has no price for the cycle
// (an unknown cycle, or one the product does not sell).
func (c *call) serviceRecurring(serviceID, userid, pid int64, cycleName string) (amount cents, ok bool, err error) {
	cy, ok := lookupCycle(cycleName)
	if !ok {
		return 0, false, nil
	}
	prod, _, err := c.loadProduct(pid)
	if err != nil {
		return 0, false, err
	}
	cur, err := c.clientCurrency(userid)
	if err != nil {
		return 0, false, err
	}
	if prod.PayType == "free" || cy.Key == "free" {
		return 0, true, nil
	}
	p, err := c.loadPrices("product", pid, cur.ID)
	if err != nil {
		return 0, false, err
	}
	base, ok := p.recurring(cy)
	if !ok {
		return 0, false, nil
	}
	sels, err := c.serviceSelections(serviceID)
	if err != nil {
		return 0, false, err
	}
	opts, err := c.configRecurring(pid, sels, cy, cur.ID)
	if err != nil {
		return 0, false, err
	}
	return base + opts, true, nil
}

// saveSelections stores configurable option selections of a service.
func (c *call) saveSelections(serviceID int64, sels map[int64]selection) error {
	ids := make([]int64, 0, len(sels))
	for id := range sels {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, id := range ids {
		s := sels[id]
		if _, err := c.tx.ExecContext(c.ctx, `INSERT INTO tblhostingconfigoptions (relid, configid, optionid, qty)
			VALUES (?, ?, ?, ?) ON CONFLICT (relid, configid) DO UPDATE SET optionid = excluded.optionid, qty = excluded.qty`,
			serviceID, id, s.OptionID, s.Qty); err != nil {
			return err
		}
	}
	return nil
}

// decodeSerialized decodes a base64(serialize(array(...))) parameter; ok is
// false when it is not given or does not decode to an array.
func decodeSerialized(value string) (m map[string]any, ok bool) {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(value))
	if err != nil || value == "" {
		return nil, false
	}
	v, err := phpserial.Unmarshal(raw)
	if err != nil {
		return nil, false
	}
	m, ok = v.(map[string]any)
	return m, ok
}

// customFieldUpdates returns the custom field values of customfields (field
// id -> value) that are product pid's custom fields and scalars; the others
// are ignored.
func (c *call) customFieldUpdates(pid int64, m map[string]any) (map[int64]string, error) {
	fields, err := c.productCustomFields(pid)
	if err != nil {
		return nil, err
	}
	out := map[int64]string{}
	for _, f := range fields {
		v, given := m[strconv.FormatInt(f.ID, 10)]
		if s, ok := scalarString(v); given && ok {
			out[f.ID] = s
		}
	}
	return out, nil
}

// configOptionUpdates returns the selections of configoptions (config option
// id -> value) for product pid's configurable options; keys that are not
// among them are ignored.
func (c *call) configOptionUpdates(pid int64, m map[string]any) (map[int64]selection, error) {
	opts, err := c.productConfigOptions(pid)
	if err != nil {
		return nil, err
	}
	out := map[int64]selection{}
	for _, o := range opts {
		v, given := m[strconv.FormatInt(o.ID, 10)]
		if !given {
			continue
		}
		if arr, ok := v.(map[string]any); ok {
			out[o.ID] = selection{OptionID: scalarInt(arr["optionid"]), Qty: scalarInt(arr["qty"])}
		} else {
			out[o.ID] = plainSelection(o, scalarInt(v))
		}
	}
	return out, nil
}

// plainSelection turns a plain configoptions value into a selection: the
// choice id for dropdown and radio options, the quantity for the others,
// whose choice is their first one.
func plainSelection(o configOption, n int64) selection {
	switch o.Type {
	case optQuantity, optYesNo:
		var first int64
		if len(o.Subs) > 0 {
			first = o.Subs[0].ID
		}
		return selection{OptionID: first, Qty: n}
	}
	return selection{OptionID: n}
}

// scalarString formats a decoded PHP scalar as PHP would print it.
func scalarString(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case int64:
		return strconv.FormatInt(x, 10), true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	case bool:
		if x {
			return "1", true
		}
		return "", true
	case nil:
		return "", true
	}
	return "", false
}

// scalarInt reads a decoded PHP scalar as PHP's (int) cast does: ints,
// floats (truncated, saturated), strings by their leading number, booleans
// as 1 or 0; anything else (null, arrays) is 0.
func scalarInt(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case float64:
		return floatInt(x)
	case string:
		return phpInt(x)
	case bool:
		if x {
			return 1
		}
	}
	return 0
}
