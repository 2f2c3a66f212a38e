package sandbox

import (
	"strconv"
	"strings"
	"unicode"
)

// getProducts implements GetProducts: the product catalog with prices per
// currency and cycle, custom fields and configurable options, in the shape
// and JSON types of the reference's example: numeric ids, "slug" and
// "product-url" (8.3), "allowqty" and "quantity_available" (8.12), and
// configurable options with WHMCS's numeric type code as a string ("1"
// dropdown, "2" radio, "3" yes/no, "4" quantity) and "minqty"/"maxqty"
// (8.12).
//
// pid may be one id or a comma-separated list (as WHMCS documents); gid and
// module filter by product group and provisioning module. Hidden products are
// included (the API is the admin's view). Choices where WHMCS's docs are
// silent (doc.go lists them with their evidence): totalresults is a number
// and there is no startnumber or numreturned, as in the example; an empty
// list is sent as "products": "" like GetClientsProducts; slugs are made from
// names and the product URL is the sandbox's own address, the group's slug
// and the product's; a configurable option choice's "rawName", "recurring"
// and "required" are the example's null, 0 and null.
func getProducts(c *call) (object, error) {
	var where []string
	var args []any
	if c.p.has("pid") {
		var marks []string
		for _, part := range strings.Split(c.p.get("pid"), ",") {
			n, err := strconv.Atoi(strings.TrimSpace(part))
			if err != nil {
				n = 0
			}
			marks = append(marks, "?")
			args = append(args, n)
		}
		where = append(where, "p.id IN ("+strings.Join(marks, ",")+")")
	}
	if c.p.has("gid") {
		where = append(where, "p.gid = ?")
		args = append(args, c.p.id("gid"))
	}
	if c.p.has("module") {
		where = append(where, "p.servertype = ?")
		args = append(args, c.p.get("module"))
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	rows, err := c.tx.QueryContext(c.ctx, `SELECT p.id, p.gid, p.type, p.name, p.description, p.paytype, p.servertype,
		p.allowqty, p.qty, g.name
		FROM tblproducts p JOIN tblproductgroups g ON g.id = p.gid`+cond+`
		ORDER BY g.sortorder, g.id, p.sortorder, p.id`, args...)
	if err != nil {
		return nil, err
	}
	type listed struct {
		product
		allowQty, stock int64
		group           string
	}
	var prods []listed
	for rows.Next() {
		var p listed
		if err := rows.Scan(&p.ID, &p.GID, &p.Type, &p.Name, &p.Description, &p.PayType, &p.Module,
			&p.allowQty, &p.stock, &p.group); err != nil {
			rows.Close()
			return nil, err
		}
		prods = append(prods, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	curs, err := c.currencies()
	if err != nil {
		return nil, err
	}

	list := []object{}
	for _, p := range prods {
		pricing, err := c.pricingObject("product", p.ID, curs, true)
		if err != nil {
			return nil, err
		}
		fields, err := c.productCustomFields(p.ID)
		if err != nil {
			return nil, err
		}
		cfs := []object{}
		for _, f := range fields {
			cfs = append(cfs, object{
				{"id", f.ID},
				{"name", f.Name},
				{"description", f.Description},
				{"required", f.Required},
			})
		}
		opts, err := c.productConfigOptions(p.ID)
		if err != nil {
			return nil, err
		}
		cos := []object{}
		for _, o := range opts {
			choices := []object{}
			for _, s := range o.Subs {
				sp, err := c.pricingObject("configoptions", s.ID, curs, false)
				if err != nil {
					return nil, err
				}
				choices = append(choices, object{
					{"id", s.ID},
					{"name", s.Name},
					{"rawName", nil},
					{"recurring", 0},
					{"required", nil},
					{"pricing", sp},
				})
			}
			cos = append(cos, object{
				{"id", o.ID},
				{"name", o.Name},
				{"type", strconv.Itoa(o.Type)},
				{"minqty", o.QtyMin},
				{"maxqty", o.QtyMax},
				{"options", object{{"option", choices}}},
			})
		}
		slug := slugOf(p.Name)
		list = append(list, object{
			{"pid", p.ID},
			{"gid", p.GID},
			{"type", p.Type},
			{"name", p.Name},
			{"slug", slug},
			{"product-url", c.base + "/" + slugOf(p.group) + "/" + slug},
			{"description", p.Description},
			{"module", p.Module},
			{"paytype", p.PayType},
			{"allowqty", p.allowQty},
			{"quantity_available", p.stock},
			{"pricing", pricing},
			{"customfields", object{{"customfield", cfs}}},
			{"configoptions", object{{"configoption", cos}}},
		})
	}

	reply := successReply()
	reply.set("totalresults", len(list))
	if len(list) == 0 {
		reply.set("products", "")
	} else {
		reply.set("products", object{{"product", list}})
	}
	return reply, nil
}

// slugOf makes a URL slug of a name as WHMCS suggests one: lower case, with
// each run of other characters than letters and digits a hyphen ("VPS Small"
// is "vps-small").
func slugOf(name string) string {
	var b strings.Builder
	hyphen := false
	for _, r := range strings.ToLower(name) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if hyphen && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			hyphen = false
		} else {
			hyphen = true
		}
	}
	return b.String()
}

// currencies returns all currencies by id.
func (c *call) currencies() ([]currency, error) {
	rows, err := c.tx.QueryContext(c.ctx, "SELECT id, code, prefix, suffix FROM tblcurrencies ORDER BY id")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []currency
	for rows.Next() {
		var cur currency
		if err := rows.Scan(&cur.ID, &cur.Code, &cur.Prefix, &cur.Suffix); err != nil {
			return nil, err
		}
		out = append(out, cur)
	}
	return out, rows.Err()
}

// pricingObject is {"USD": {"prefix": "$", "suffix": " USD", "msetupfee":
// "0.00", ..., "monthly": "12.95", ..., "triennially": "-1.00"}, ...} for the
// tblpricing rows of (typ, relid), one entry per currency; without prefix and
// suffix unless withAffixes (the reference's example has them for products,
// not for configurable option choices).
func (c *call) pricingObject(typ string, relid int64, curs []currency, withAffixes bool) (object, error) {
	out := object{}
	for _, cur := range curs {
		p, err := c.loadPrices(typ, relid, cur.ID)
		if err != nil {
			return nil, err
		}
		o := object{}
		if withAffixes {
			o = object{{"prefix", cur.Prefix}, {"suffix", cur.Suffix}}
		}
		for _, col := range priceColumns {
			o.set(col, p[col].String())
		}
		out.set(cur.Code, o)
	}
	return out, nil
}

// getPaymentMethods implements GetPaymentMethods: the configured gateways in
// display order. totalresults is a number.
func getPaymentMethods(c *call) (object, error) {
	gws, err := c.gateways()
	if err != nil {
		return nil, err
	}
	list := []object{}
	for _, g := range gws {
		list = append(list, object{{"module", g.Module}, {"displayname", g.Name}})
	}
	reply := successReply()
	reply.set("totalresults", len(list))
	reply.set("paymentmethods", object{{"paymentmethod", list}})
	return reply, nil
}
