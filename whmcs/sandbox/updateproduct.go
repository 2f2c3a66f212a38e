package sandbox

import (
	"encoding/base64"
	"fmt"
	"math"
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
// Every given parameter is checked before anything is written, and the whole
// update is one transaction: on any error nothing changes. Choices where
// WHMCS's docs are silent:
//   - Invalid values are errors rather than being stored as given: dates must
//     be real Y-m-d dates ("Invalid Date Format. <param> must be a valid date
//     in the format Y-m-d"; 0000-00-00 clears nextduedate, terminationdate
//     and overidesuspenduntil); status one of Pending, Active, Suspended,
//     Terminated, Cancelled, Fraud, Completed (any case, stored canonical);
//     billingcycle one of WHMCS's names (any case, "One-Time" and short forms
//     such as "semiannually" accepted, stored as WHMCS's name);
//     overideautosuspend on or off; amounts and usage numbers non-negative;
//     pid, serverid (0 = none) and promoid (0 = none) must exist.
//   - nextduedate also moves nextinvoicedate, as WHMCS keeps them together.
//   - Setting diskusage, disklimit, bwusage or bwlimit stamps lastupdate.
//   - unset[] takes only the documented items; it is applied after the other
//     parameters, so unset wins over a value given in the same request.
//   - customfields and configoptions must be base64(serialize(array)); a
//     broken encoding is "Invalid customfields: expected
//     base64_encode(serialize(array(...)))" (configoptions alike). Their keys
//     must be custom fields / configurable options of the service's (new)
//     product. A configoptions value is the chosen option id for dropdown and
//     radio options and the quantity for quantity and yes/no options, or
//     array('optionid' => ..., 'qty' => ...) for any type.
//   - autorecalc=1 sets the recurring amount to the (new) product's price for
//     the (new) billing cycle in the client's currency plus the prices of the
//     service's configurable option selections, ignoring recurringamount. The
//     service's qty does not multiply prices in the sandbox. A cycle the
//     product is not offered on is an error.
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

	if n, ok, err := c.p.optInt("pid"); err != nil {
		return nil, apiError("Product ID Not Found")
	} else if ok {
		if _, found, err := c.loadProduct(int64(n)); err != nil {
			return nil, err
		} else if !found {
			return nil, apiError("Product ID Not Found")
		}
		sets.add("packageid", n)
		pid = int64(n)
	}
	if n, ok, err := c.p.optInt("serverid"); err != nil {
		return nil, apiError("Server ID Not Found")
	} else if ok {
		if n != 0 {
			found, err := exists(c.ctx, c.tx, "SELECT 1 FROM tblservers WHERE id = ?", n)
			if err != nil {
				return nil, err
			}
			if !found {
				return nil, apiError("Server ID Not Found")
			}
		}
		sets.add("server", n)
	}
	if d, ok, err := c.p.optDate("regdate", false); err != nil {
		return nil, err
	} else if ok {
		sets.add("regdate", d)
	}
	if d, ok, err := c.p.optDate("nextduedate", true); err != nil {
		return nil, err
	} else if ok {
		sets.add("nextduedate", d)
		sets.add("nextinvoicedate", d)
	}
	if d, ok, err := c.p.optDate("terminationdate", true); err != nil {
		return nil, err
	} else if ok {
		sets.add("termination_date", d)
	}
	if v, ok, err := c.p.optAmount("firstpaymentamount"); err != nil {
		return nil, err
	} else if ok {
		sets.add("firstpaymentamount", v.float())
	}
	recurring, recurringGiven, err := c.p.optAmount("recurringamount")
	if err != nil {
		return nil, err
	}
	if c.p.has("paymentmethod") {
		gw := c.p.get("paymentmethod")
		if err := c.checkPaymentMethod(gw); err != nil {
			return nil, err
		}
		sets.add("paymentmethod", gw)
	}
	if cy, ok, err := c.p.optCycle("billingcycle"); err != nil {
		return nil, err
	} else if ok {
		sets.add("billingcycle", cy.Name)
		cycleName = cy.Name
	}
	if st, ok, err := c.p.optStatus("status"); err != nil {
		return nil, err
	} else if ok {
		sets.add("domainstatus", st)
	}
	for _, f := range textFields {
		if c.p.has(f.param) {
			sets.add(f.column, c.p.get(f.param))
		}
	}
	if c.p.has("overideautosuspend") {
		switch strings.ToLower(strings.TrimSpace(c.p.get("overideautosuspend"))) {
		case "on":
			sets.add("overideautosuspend", "on")
		case "off":
			sets.add("overideautosuspend", "")
		default:
			return nil, apiError("Invalid overideautosuspend. Valid options include on,off")
		}
	}
	if d, ok, err := c.p.optDate("overidesuspenduntil", true); err != nil {
		return nil, err
	} else if ok {
		sets.add("overidesuspenduntil", d)
	}
	usage := false
	for _, name := range []string{"diskusage", "disklimit", "bwusage", "bwlimit"} {
		if n, ok, err := c.p.optInt(name); err != nil {
			return nil, err
		} else if ok {
			sets.add(name, n)
			usage = true
		}
	}
	if usage {
		sets.add("lastupdate", c.now.Format(dateTimeLayout))
	}
	if n, ok, err := c.p.optInt("promoid"); err != nil {
		return nil, apiError("Promotion ID Not Found")
	} else if ok {
		if n != 0 {
			found, err := exists(c.ctx, c.tx, "SELECT 1 FROM tblpromotions WHERE id = ?", n)
			if err != nil {
				return nil, err
			}
			if !found {
				return nil, apiError("Promotion ID Not Found")
			}
		}
		sets.add("promoid", n)
	}
	var unset []string
	for _, item := range c.p.list("unset") {
		col := ""
		for _, u := range unsetFields {
			if u.item == item {
				col = u.column
			}
		}
		if col == "" {
			items := make([]string, len(unsetFields))
			for i, u := range unsetFields {
				items[i] = u.item
			}
			return nil, apiError("Invalid unset item " + strconv.Quote(item) + ". Valid options include " + strings.Join(items, ","))
		}
		unset = append(unset, col)
	}
	autorecalc, _, err := c.p.optBool("autorecalc")
	if err != nil {
		return nil, err
	}

	// Custom fields and configurable options refer to the (new) product.
	var fieldValues map[int64]string
	if c.p.has("customfields") {
		m, err := decodeSerialized("customfields", c.p.get("customfields"))
		if err != nil {
			return nil, err
		}
		if fieldValues, err = c.checkCustomFields(pid, m); err != nil {
			return nil, err
		}
	}
	var sels map[int64]selection
	if c.p.has("configoptions") {
		m, err := decodeSerialized("configoptions", c.p.get("configoptions"))
		if err != nil {
			return nil, err
		}
		if sels, err = c.checkConfigOptions(pid, m); err != nil {
			return nil, err
		}
	}

	// Everything is valid: write.
	for _, col := range unset {
		sets.add(col, "")
	}
	if recurringGiven && !autorecalc {
		sets.add("amount", recurring.float())
	}
	if err := sets.apply(c, "tblhosting", int(svc.ID)); err != nil {
		return nil, err
	}
	for id, v := range fieldValues {
		if _, err := c.tx.ExecContext(c.ctx, `INSERT INTO tblcustomfieldsvalues (fieldid, relid, value) VALUES (?, ?, ?)
			ON CONFLICT (fieldid, relid) DO UPDATE SET value = excluded.value`, id, svc.ID, v); err != nil {
			return nil, err
		}
	}
	if err := c.saveSelections(svc.ID, sels); err != nil {
		return nil, err
	}
	if autorecalc {
		cy, ok := lookupCycle(cycleName)
		if !ok {
			return nil, apiError(fmt.Sprintf("Unable to recalculate: unknown billing cycle %q", cycleName))
		}
		amount, err := c.serviceRecurring(svc.ID, svc.UserID, pid, cy)
		if err != nil {
			return nil, err
		}
		if _, err := c.tx.ExecContext(c.ctx, "UPDATE tblhosting SET amount = ? WHERE id = ?", amount.float(), svc.ID); err != nil {
			return nil, err
		}
	}
	c.wrote = true
	reply := successReply()
	reply.set("serviceid", strconv.FormatInt(svc.ID, 10))
	return reply, nil
}

// serviceRecurring computes the recurring amount of service serviceID of
// client userid on product pid and cycle cy from the catalog: the product's
// price plus the prices of the service's configurable option selections.
func (c *call) serviceRecurring(serviceID, userid, pid int64, cy cycle) (cents, error) {
	prod, _, err := c.loadProduct(pid)
	if err != nil {
		return 0, err
	}
	cur, err := c.clientCurrency(userid)
	if err != nil {
		return 0, err
	}
	if prod.PayType == "free" || cy.Key == "free" {
		return 0, nil
	}
	p, err := c.loadPrices("product", pid, cur.ID)
	if err != nil {
		return 0, err
	}
	base, ok := p.recurring(cy)
	if !ok {
		return 0, apiError(fmt.Sprintf("Unable to recalculate: product %d is not offered on the %s billing cycle", pid, cy.Name))
	}
	sels, err := c.serviceSelections(serviceID)
	if err != nil {
		return 0, err
	}
	opts, err := c.configRecurring(pid, sels, cy, cur.ID)
	if err != nil {
		return 0, err
	}
	return base + opts, nil
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

// decodeSerialized decodes a base64(serialize(array(...))) parameter.
func decodeSerialized(name, value string) (map[string]any, error) {
	bad := apiError("Invalid " + name + ": expected base64_encode(serialize(array(...)))")
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(value))
	if err != nil {
		return nil, bad
	}
	v, err := phpserial.Unmarshal(raw)
	if err != nil {
		return nil, bad
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, bad
	}
	return m, nil
}

// checkCustomFields validates customfields (field id -> value) against
// product pid's custom fields.
func (c *call) checkCustomFields(pid int64, m map[string]any) (map[int64]string, error) {
	fields, err := c.productCustomFields(pid)
	if err != nil {
		return nil, err
	}
	out := map[int64]string{}
	for k, v := range m {
		id, err := strconv.ParseInt(k, 10, 64)
		known := false
		for _, f := range fields {
			known = known || (err == nil && f.ID == id)
		}
		if !known {
			return nil, apiError(fmt.Sprintf("Invalid customfields: %s is not a custom field of product %d", k, pid))
		}
		s, ok := scalarString(v)
		if !ok {
			return nil, apiError(fmt.Sprintf("Invalid customfields: the value of custom field %s must be a string", k))
		}
		out[id] = s
	}
	return out, nil
}

// checkConfigOptions validates configoptions (config option id -> value)
// against product pid's configurable options and returns the selections.
func (c *call) checkConfigOptions(pid int64, m map[string]any) (map[int64]selection, error) {
	opts, err := c.productConfigOptions(pid)
	if err != nil {
		return nil, err
	}
	out := map[int64]selection{}
	for k, v := range m {
		id, perr := strconv.ParseInt(k, 10, 64)
		var opt *configOption
		for i := range opts {
			if perr == nil && opts[i].ID == id {
				opt = &opts[i]
			}
		}
		if opt == nil {
			return nil, apiError(fmt.Sprintf("Invalid configoptions: %s is not a configurable option of product %d", k, pid))
		}
		var sel selection
		if arr, ok := v.(map[string]any); ok {
			oid, ok1 := scalarInt(arr["optionid"])
			qty, ok2 := scalarInt(arr["qty"])
			if arr["qty"] == nil {
				qty, ok2 = 0, true
			}
			if !ok1 || !ok2 {
				return nil, apiError(fmt.Sprintf("Invalid configoptions: option %s needs array('optionid' => ID, 'qty' => N)", k))
			}
			sel = selection{OptionID: oid, Qty: qty}
		} else {
			n, ok := scalarInt(v)
			if !ok {
				return nil, apiError(fmt.Sprintf("Invalid configoptions: the value of option %s must be a number", k))
			}
			sel, err = plainSelection(*opt, n)
			if err != nil {
				return nil, err
			}
		}
		if err := checkSelection(*opt, sel); err != nil {
			return nil, err
		}
		out[id] = sel
	}
	return out, nil
}

// plainSelection turns a plain configoptions value into a selection: the
// choice id for dropdown and radio options, the quantity (yes/no: 1 or 0)
// for the others, whose choice is their first one.
func plainSelection(o configOption, n int64) (selection, error) {
	switch o.Type {
	case optQuantity, optYesNo:
		var first int64
		if len(o.Subs) > 0 {
			first = o.Subs[0].ID
		}
		return selection{OptionID: first, Qty: n}, nil
	}
	return selection{OptionID: n}, nil
}

// checkSelection checks a selection against its option: the choice must
// belong to the option, a quantity must be within the option's bounds, a
// yes/no must be 0 or 1.
func checkSelection(o configOption, sel selection) error {
	if _, ok := o.sub(sel.OptionID); !ok {
		return apiError(fmt.Sprintf("Invalid configoptions: %d is not a choice of option %d (%s)", sel.OptionID, o.ID, o.Name))
	}
	switch o.Type {
	case optYesNo:
		if sel.Qty != 0 && sel.Qty != 1 {
			return apiError(fmt.Sprintf("Invalid configoptions: option %d (%s) takes 0 or 1", o.ID, o.Name))
		}
	case optQuantity:
		if sel.Qty < o.QtyMin || (o.QtyMax > 0 && sel.Qty > o.QtyMax) || sel.Qty < 0 {
			return apiError(fmt.Sprintf("Invalid configoptions: quantity for option %d (%s) must be between %d and %d",
				o.ID, o.Name, o.QtyMin, o.QtyMax))
		}
	default:
		if sel.Qty < 0 {
			return apiError(fmt.Sprintf("Invalid configoptions: negative quantity for option %d", o.ID))
		}
	}
	return nil
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

// scalarInt reads a decoded PHP scalar as an integer: ints, whole floats and
// decimal strings.
func scalarInt(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1e15 {
			return int64(x), true
		}
	case string:
		n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
		return n, err == nil
	case bool:
		if x {
			return 1, true
		}
		return 0, true
	}
	return 0, false
}
