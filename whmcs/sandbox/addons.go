package sandbox

import (
	"database/sql"
	"errors"
	"strconv"
	"strings"
)

// getClientsAddons implements GetClientsAddons: the addons attached to
// client services, filtered by serviceid (one id or a comma-separated list,
// as WHMCS documents), clientid and addonid, in the shape and JSON types of
// the reference's example: serviceid and clientid echoed as given and "" when
// not given, totalresults a string, and each addon with its qty (8.12) and
// paymentmethodname.
//
// Choices where WHMCS's docs are silent: "name" is the addon's custom name
// or, when it has none, the catalog addon's name, and an empty list is sent
// as "addons": "" like GetClientsProducts.
func getClientsAddons(c *call) (object, error) {
	var where []string
	var args []any
	if c.p.has("serviceid") {
		var marks []string
		for _, part := range strings.Split(c.p.get("serviceid"), ",") {
			marks = append(marks, "?")
			args = append(args, phpInt(part))
		}
		where = append(where, "a.hostingid IN ("+strings.Join(marks, ",")+")")
	}
	for _, f := range []struct{ param, column string }{{"clientid", "a.userid"}, {"addonid", "a.addonid"}} {
		if c.p.has(f.param) {
			where = append(where, f.column+" = ?")
			args = append(args, c.p.id(f.param))
		}
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	rows, err := c.tx.QueryContext(c.ctx, `SELECT a.id, a.qty, a.userid, a.orderid, a.hostingid, a.addonid,
		CASE WHEN a.name <> '' THEN a.name ELSE COALESCE(ad.name, '') END,
		a.setupfee, a.recurring, a.billingcycle, a.tax, a.status, a.regdate, a.nextduedate,
		a.nextinvoicedate, a.paymentmethod, COALESCE(pg.name, ''), a.notes
		FROM tblhostingaddons a LEFT JOIN tbladdons ad ON ad.id = a.addonid
		LEFT JOIN tblpaymentgateways pg ON pg.gateway = a.paymentmethod`+cond+` ORDER BY a.id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	list := []object{}
	for rows.Next() {
		var id, qty, userid, orderid, serviceid, addonid int64
		var name, cycle, tax, status, regdate, nextdue, nextinv, gw, gwName, notes string
		var setup, recurring float64
		if err := rows.Scan(&id, &qty, &userid, &orderid, &serviceid, &addonid, &name, &setup, &recurring, &cycle,
			&tax, &status, &regdate, &nextdue, &nextinv, &gw, &gwName, &notes); err != nil {
			return nil, err
		}
		i := func(n int64) string { return strconv.FormatInt(n, 10) }
		list = append(list, object{
			{"id", i(id)},
			{"qty", i(qty)},
			{"userid", i(userid)},
			{"orderid", i(orderid)},
			{"serviceid", i(serviceid)},
			{"addonid", i(addonid)},
			{"name", name},
			{"setupfee", toCents(setup).String()},
			{"recurring", toCents(recurring).String()},
			{"billingcycle", cycle},
			{"tax", tax},
			{"status", status},
			{"regdate", regdate},
			{"nextduedate", nextdue},
			{"nextinvoicedate", nextinv},
			{"paymentmethod", gw},
			{"paymentmethodname", gwName},
			{"notes", notes},
		})
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	reply := successReply()
	reply.set("serviceid", c.p.get("serviceid"))
	reply.set("clientid", c.p.get("clientid"))
	reply.set("totalresults", strconv.Itoa(len(list)))
	if len(list) == 0 {
		reply.set("addons", "")
	} else {
		reply.set("addons", object{{"addon", list}})
	}
	return reply, nil
}

// updateClientAddon implements UpdateClientAddon.
//
// WHMCS documents two errors, "Addon ID Not Found" and "Nothing to Update",
// and the sandbox answers no other. Choices where WHMCS's docs are silent
// (doc.go lists each with its evidence):
//   - Values are read and stored as UpdateClientProduct's are: a known status
//     (the service statuses) or billing cycle with WHMCS's spelling, any
//     other as given; amounts by their leading number, negative ones kept;
//     dates as given when they are real Y-m-d dates and 0000-00-00 otherwise.
//   - An addonid that names no catalog addon is stored as given.
//   - nextduedate also moves nextinvoicedate, as WHMCS keeps them together.
//   - autorecalc (PHP truthiness) sets the recurring amount to the catalog
//     addon's price for the addon's (new) billing cycle in the client's
//     currency, ignoring recurring; it counts as something to update. When
//     the addon has no price for the cycle the amount is left as it is.
//   - "Nothing to Update" answers a request with none of the updatable
//     parameters (autorecalc=0 alone included); values equal to the current
//     ones still count as an update.
func updateClientAddon(c *call) (object, error) {
	id := c.p.id("id")
	var userid, addonid int64
	var cycleName string
	err := c.tx.QueryRowContext(c.ctx, "SELECT userid, addonid, billingcycle FROM tblhostingaddons WHERE id = ?", id).
		Scan(&userid, &addonid, &cycleName)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apiError("Addon ID Not Found")
	} else if err != nil {
		return nil, err
	}

	var sets updates
	if st, ok := c.p.optStatus("status"); ok {
		sets.add("status", st)
	}
	if n, ok := c.p.optInt("addonid"); ok {
		sets.add("addonid", n)
		addonid = n
	}
	if c.p.has("name") {
		sets.add("name", c.p.get("name"))
	}
	if v, ok := c.p.optAmount("setupfee"); ok {
		sets.add("setupfee", v.float())
	}
	recurring, recurringGiven := c.p.optAmount("recurring")
	if cy, ok := c.p.optCycleName("billingcycle"); ok {
		sets.add("billingcycle", cy)
		cycleName = cy
	}
	if d, ok := c.p.optDate("nextduedate"); ok {
		sets.add("nextduedate", d)
		sets.add("nextinvoicedate", d)
	}
	if d, ok := c.p.optDate("terminationdate"); ok {
		sets.add("termination_date", d)
	}
	if c.p.has("notes") {
		sets.add("notes", c.p.get("notes"))
	}
	autorecalc := c.p.optBool("autorecalc")
	switch {
	case autorecalc:
		price, ok, err := c.addonRecurring(userid, addonid, cycleName)
		if err != nil {
			return nil, err
		}
		if ok {
			sets.add("recurring", price.float())
		}
	case recurringGiven:
		sets.add("recurring", recurring.float())
	}
	if len(sets) == 0 && !autorecalc {
		return nil, apiError("Nothing to Update")
	}
	if err := sets.apply(c, "tblhostingaddons", id); err != nil {
		return nil, err
	}
	c.wrote = true
	reply := successReply()
	reply.set("id", strconv.Itoa(id))
	return reply, nil
}

// addonRecurring is the catalog price of addon addonid for the billing cycle
// named cycleName in client userid's currency; ok is false when the addon has
// no price for the cycle (an unknown cycle, or one the addon is not sold on).
func (c *call) addonRecurring(userid, addonid int64, cycleName string) (price cents, ok bool, err error) {
	cy, ok := lookupCycle(cycleName)
	if !ok {
		return 0, false, nil
	}
	cur, err := c.clientCurrency(userid)
	if err != nil {
		return 0, false, err
	}
	p, err := c.loadPrices("addon", addonid, cur.ID)
	if err != nil {
		return 0, false, err
	}
	price, ok = p.recurring(cy)
	return price, ok, nil
}

// updates collects column assignments for one UPDATE statement.
type updates []field

// add assigns v to column col; a later assignment of the same column wins.
func (u *updates) add(col string, v any) {
	for i := range *u {
		if (*u)[i].key == col {
			(*u)[i].val = v
			return
		}
	}
	*u = append(*u, field{col, v})
}

// apply runs UPDATE table SET ... WHERE id = id.
func (u updates) apply(c *call, table string, id int) error {
	if len(u) == 0 {
		return nil
	}
	cols := make([]string, len(u))
	args := make([]any, 0, len(u)+1)
	for i, f := range u {
		cols[i] = f.key + " = ?"
		args = append(args, f.val)
	}
	args = append(args, id)
	_, err := c.tx.ExecContext(c.ctx, "UPDATE "+table+" SET "+strings.Join(cols, ", ")+" WHERE id = ?", args...)
	return err
}
