package sandbox

import (
	"strconv"
	"strings"
)

// getProducts implements GetProducts: the product catalog with prices per
// currency and cycle, custom fields and configurable options.
//
// pid may be one id or a comma-separated list (as WHMCS documents); gid and
// module filter by product group and provisioning module. Hidden products are
// included (the API is the admin's view). Choices where WHMCS's docs are
// silent: ids are strings, totalresults is a number, and an empty list is
// sent as "products": "" like GetClientsProducts.
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
	rows, err := c.tx.QueryContext(c.ctx, `SELECT p.id, p.gid, p.type, p.name, p.description, p.paytype, p.servertype
		FROM tblproducts p JOIN tblproductgroups g ON g.id = p.gid`+cond+`
		ORDER BY g.sortorder, g.id, p.sortorder, p.id`, args...)
	if err != nil {
		return nil, err
	}
	var prods []product
	for rows.Next() {
		var p product
		if err := rows.Scan(&p.ID, &p.GID, &p.Type, &p.Name, &p.Description, &p.PayType, &p.Module); err != nil {
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
		pricing, err := c.pricingObject("product", p.ID, curs)
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
				{"id", strconv.FormatInt(f.ID, 10)},
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
				sp, err := c.pricingObject("configoptions", s.ID, curs)
				if err != nil {
					return nil, err
				}
				choices = append(choices, object{
					{"id", strconv.FormatInt(s.ID, 10)},
					{"name", s.Name},
					{"pricing", sp},
				})
			}
			co := object{
				{"id", strconv.FormatInt(o.ID, 10)},
				{"name", o.Name},
				{"type", optionTypeName(o.Type)},
			}
			if o.Type == optQuantity {
				co.set("qtyminimum", strconv.FormatInt(o.QtyMin, 10))
				co.set("qtymaximum", strconv.FormatInt(o.QtyMax, 10))
			}
			co.set("options", object{{"option", choices}})
			cos = append(cos, co)
		}
		list = append(list, object{
			{"pid", strconv.FormatInt(p.ID, 10)},
			{"gid", strconv.FormatInt(p.GID, 10)},
			{"type", p.Type},
			{"name", p.Name},
			{"description", p.Description},
			{"module", p.Module},
			{"paytype", p.PayType},
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
// tblpricing rows of (typ, relid), one entry per currency.
func (c *call) pricingObject(typ string, relid int64, curs []currency) (object, error) {
	out := object{}
	for _, cur := range curs {
		p, err := c.loadPrices(typ, relid, cur.ID)
		if err != nil {
			return nil, err
		}
		o := object{{"prefix", cur.Prefix}, {"suffix", cur.Suffix}}
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
