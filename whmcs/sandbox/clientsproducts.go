package sandbox

import (
	"strconv"
	"strings"
)

// getClientsProducts implements GetClientsProducts: a client's services with
// product, server, custom field and config option details.
//
// Choices where WHMCS's docs are silent:
//   - clientid, serviceid, pid and domain are echoed as given (strings), or
//     null when not given, as in the reference example; username2 is not
//     echoed (the example has no such key).
//   - A clientid that matches no client gives an empty list, not an error.
//   - An empty list is sent as "products": "" (what several WHMCS versions
//     send), with "totalresults": "0" and "numreturned": 0.
//   - limitnum defaults to 25 and so does a limitnum that is not a positive
//     integer; limitstart defaults to 0.
//   - Services are listed by id.
func getClientsProducts(c *call) (object, error) {
	var where []string
	var args []any
	echo := func(name string) any {
		if !c.p.has(name) {
			return nil
		}
		return c.p.get(name)
	}
	for _, f := range []struct{ param, column string }{
		{"clientid", "h.userid"}, {"serviceid", "h.id"}, {"pid", "h.packageid"},
	} {
		if c.p.has(f.param) {
			where = append(where, f.column+" = ?")
			args = append(args, c.p.id(f.param))
		}
	}
	if c.p.has("domain") {
		where = append(where, "h.domain = ?")
		args = append(args, c.p.get("domain"))
	}
	if c.p.has("username2") {
		where = append(where, "h.username = ?")
		args = append(args, c.p.get("username2"))
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	start, limit := paging(c.p)

	var total int
	if err := c.tx.QueryRowContext(c.ctx, "SELECT COUNT(*) FROM tblhosting h"+cond, args...).Scan(&total); err != nil {
		return nil, err
	}
	list, err := c.serviceObjects(cond, append(args, limit, start)...)
	if err != nil {
		return nil, err
	}

	reply := successReply()
	reply.set("clientid", echo("clientid"))
	reply.set("serviceid", echo("serviceid"))
	reply.set("pid", echo("pid"))
	reply.set("domain", echo("domain"))
	reply.set("totalresults", strconv.Itoa(total))
	reply.set("startnumber", start)
	reply.set("numreturned", len(list))
	if len(list) == 0 {
		reply.set("products", "")
	} else {
		reply.set("products", object{{"product", list}})
	}
	return reply, nil
}

// paging reads limitstart and limitnum.
func paging(p params) (start, limit int) {
	start, limit = 0, 25
	if n, err := strconv.Atoi(strings.TrimSpace(p.get("limitstart"))); err == nil && n > 0 {
		start = n
	}
	if n, err := strconv.Atoi(strings.TrimSpace(p.get("limitnum"))); err == nil && n > 0 {
		limit = n
	}
	return start, limit
}

// serviceObjects returns the services matching cond (with LIMIT and OFFSET
// as the last two args) in GetClientsProducts's shape, keys in the order of
// WHMCS's example.
func (c *call) serviceObjects(cond string, args ...any) ([]object, error) {
	rows, err := c.tx.QueryContext(c.ctx, `SELECT h.id, h.qty, h.userid, h.orderid, COALESCE(o.ordernum, ''),
		h.packageid, h.regdate, p.name, g.name, h.domain, h.dedicatedip, h.server,
		COALESCE(sv.name, ''), COALESCE(sv.ipaddress, ''), COALESCE(sv.hostname, ''), h.suspendreason,
		h.firstpaymentamount, h.amount, h.paymentmethod, COALESCE(pg.name, ''), h.billingcycle,
		h.nextduedate, h.domainstatus, h.username, h.password, h.subscriptionid, h.promoid,
		h.overideautosuspend, h.overidesuspenduntil, h.ns1, h.ns2, h.assignedips, h.notes,
		h.diskusage, h.disklimit, h.bwusage, h.bwlimit, h.lastupdate
		FROM tblhosting h
		JOIN tblproducts p ON p.id = h.packageid
		JOIN tblproductgroups g ON g.id = p.gid
		LEFT JOIN tblorders o ON o.id = h.orderid
		LEFT JOIN tblservers sv ON sv.id = h.server
		LEFT JOIN tblpaymentgateways pg ON pg.gateway = h.paymentmethod`+cond+`
		ORDER BY h.id LIMIT ? OFFSET ?`, args...)
	if err != nil {
		return nil, err
	}
	type row struct {
		obj     object
		id, pid int64
	}
	var list []row
	for rows.Next() {
		var (
			id, qty, userid, orderid, pid, serverid, promoid    int64
			diskusage, disklimit, bwusage, bwlimit              int64
			ordernum, regdate, name, group, domain, dedicatedip string
			servername, serverip, serverhost, suspendreason     string
			first, amount                                       float64
			gw, gwName, cycle, nextdue, status, username        string
			password, subscriptionid, overide, overideuntil     string
			ns1, ns2, assignedips, notes, lastupdate            string
		)
		if err := rows.Scan(&id, &qty, &userid, &orderid, &ordernum, &pid, &regdate, &name, &group, &domain,
			&dedicatedip, &serverid, &servername, &serverip, &serverhost, &suspendreason, &first, &amount,
			&gw, &gwName, &cycle, &nextdue, &status, &username, &password, &subscriptionid, &promoid,
			&overide, &overideuntil, &ns1, &ns2, &assignedips, &notes, &diskusage, &disklimit, &bwusage,
			&bwlimit, &lastupdate); err != nil {
			rows.Close()
			return nil, err
		}
		i := func(n int64) string { return strconv.FormatInt(n, 10) }
		o := object{
			{"id", i(id)},
			{"qty", i(qty)},
			{"clientid", i(userid)},
			{"orderid", i(orderid)},
		}
		if ordernum != "" {
			o.set("ordernumber", ordernum)
		}
		o = append(o, object{
			{"pid", i(pid)},
			{"regdate", regdate},
			{"name", name},
			{"translated_name", name},
			{"groupname", group},
			{"translated_groupname", group},
			{"domain", domain},
			{"dedicatedip", dedicatedip},
			{"serverid", i(serverid)},
			{"servername", servername},
			{"serverip", serverip},
			{"serverhostname", serverhost},
			{"suspensionreason", suspendreason},
			{"firstpaymentamount", toCents(first).String()},
			{"recurringamount", toCents(amount).String()},
			{"paymentmethod", gw},
			{"paymentmethodname", gwName},
			{"billingcycle", cycle},
			{"nextduedate", nextdue},
			{"status", status},
			{"username", username},
			{"password", password},
			{"subscriptionid", subscriptionid},
			{"promoid", i(promoid)},
			{"overideautosuspend", overide},
			{"overidesuspenduntil", overideuntil},
			{"ns1", ns1},
			{"ns2", ns2},
			{"assignedips", assignedips},
			{"notes", notes},
			{"diskusage", i(diskusage)},
			{"disklimit", i(disklimit)},
			{"bwusage", i(bwusage)},
			{"bwlimit", i(bwlimit)},
			{"lastupdate", lastupdate},
		}...)
		list = append(list, row{o, id, pid})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}

	out := make([]object, len(list))
	for k, r := range list {
		cf, err := c.serviceCustomFields(r.id, r.pid)
		if err != nil {
			return nil, err
		}
		co, err := c.serviceConfigOptions(r.id, r.pid)
		if err != nil {
			return nil, err
		}
		r.obj.set("customfields", object{{"customfield", cf}})
		r.obj.set("configoptions", object{{"configoption", co}})
		out[k] = r.obj
	}
	return out, nil
}

// serviceCustomFields lists the custom fields of the service's product with
// the service's values ("" when unset).
func (c *call) serviceCustomFields(serviceID, pid int64) ([]object, error) {
	fields, err := c.productCustomFields(pid)
	if err != nil {
		return nil, err
	}
	values, err := c.customFieldValues(serviceID)
	if err != nil {
		return nil, err
	}
	out := []object{}
	for _, f := range fields {
		out = append(out, object{
			{"id", strconv.FormatInt(f.ID, 10)},
			{"name", f.Name},
			{"translated_name", f.Name},
			{"value", values[f.ID]},
		})
	}
	return out, nil
}

// serviceConfigOptions lists the configurable options of the service's
// product with the service's selections.
func (c *call) serviceConfigOptions(serviceID, pid int64) ([]object, error) {
	opts, err := c.productConfigOptions(pid)
	if err != nil {
		return nil, err
	}
	sels, err := c.serviceSelections(serviceID)
	if err != nil {
		return nil, err
	}
	out := []object{}
	for _, o := range opts {
		sel, ok := sels[o.ID]
		out = append(out, object{
			{"id", strconv.FormatInt(o.ID, 10)},
			{"option", o.Name},
			{"type", optionTypeName(o.Type)},
			{"value", selectionValue(o, sel, ok)},
		})
	}
	return out, nil
}
