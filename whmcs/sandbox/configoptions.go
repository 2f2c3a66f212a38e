package sandbox

import (
	"strconv"
)

// Configurable option types (tblproductconfigoptions.optiontype).
const (
	optDropdown = 1
	optRadio    = 2
	optYesNo    = 3
	optQuantity = 4
)

// optionTypeName is the type as GetClientsProducts shows it: a word, as in
// its reference example. (GetProducts shows the numeric code instead, as in
// its example.)
func optionTypeName(t int) string {
	switch t {
	case optDropdown:
		return "dropdown"
	case optRadio:
		return "radio"
	case optYesNo:
		return "yesno"
	case optQuantity:
		return "quantity"
	}
	return strconv.Itoa(t)
}

// configOption is a configurable option with its choices.
type configOption struct {
	ID             int64
	Name           string
	Type           int
	QtyMin, QtyMax int64
	Subs           []configSub
}

// configSub is one choice of a configurable option.
type configSub struct {
	ID   int64
	Name string
}

// sub returns the choice with id, if it belongs to the option.
func (o configOption) sub(id int64) (configSub, bool) {
	for _, s := range o.Subs {
		if s.ID == id {
			return s, true
		}
	}
	return configSub{}, false
}

// selection is a service's selection for one configurable option
// (tblhostingconfigoptions): the chosen choice, and the quantity for
// quantity and yes/no options (1 = yes).
type selection struct {
	OptionID, Qty int64
}

// productConfigOptions returns the configurable options linked to product
// pid (through its config option groups), in display order.
func (c *call) productConfigOptions(pid int64) ([]configOption, error) {
	rows, err := c.tx.QueryContext(c.ctx, `SELECT o.id, o.optionname, o.optiontype, o.qtyminimum, o.qtymaximum
		FROM tblproductconfigoptions o JOIN tblproductconfiglinks l ON l.gid = o.gid
		WHERE l.pid = ? ORDER BY o.gid, o.sortorder, o.id`, pid)
	if err != nil {
		return nil, err
	}
	var opts []configOption
	for rows.Next() {
		var o configOption
		if err := rows.Scan(&o.ID, &o.Name, &o.Type, &o.QtyMin, &o.QtyMax); err != nil {
			rows.Close()
			return nil, err
		}
		opts = append(opts, o)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range opts {
		subs, err := c.tx.QueryContext(c.ctx, `SELECT id, optionname FROM tblproductconfigoptionssub
			WHERE configid = ? ORDER BY sortorder, id`, opts[i].ID)
		if err != nil {
			return nil, err
		}
		for subs.Next() {
			var s configSub
			if err := subs.Scan(&s.ID, &s.Name); err != nil {
				subs.Close()
				return nil, err
			}
			opts[i].Subs = append(opts[i].Subs, s)
		}
		subs.Close()
		if err := subs.Err(); err != nil {
			return nil, err
		}
	}
	return opts, nil
}

// serviceSelections returns a service's config option selections by option id.
func (c *call) serviceSelections(serviceID int64) (map[int64]selection, error) {
	rows, err := c.tx.QueryContext(c.ctx, `SELECT configid, optionid, qty FROM tblhostingconfigoptions WHERE relid = ?`, serviceID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64]selection{}
	for rows.Next() {
		var id int64
		var s selection
		if err := rows.Scan(&id, &s.OptionID, &s.Qty); err != nil {
			return nil, err
		}
		out[id] = s
	}
	return out, rows.Err()
}

// selectionValue is the value GetClientsProducts shows for a selection: the
// choice's name for dropdown and radio options, the quantity for quantity
// and yes/no options (yes/no: "1" or "0"), "" when nothing is selected.
func selectionValue(o configOption, sel selection, selected bool) string {
	if !selected {
		return ""
	}
	switch o.Type {
	case optQuantity, optYesNo:
		return strconv.FormatInt(sel.Qty, 10)
	}
	if s, ok := o.sub(sel.OptionID); ok {
		return s.Name
	}
	return ""
}

// selectionPrice is the recurring price of one selection for cycle cy in
// currency cur: the choice's price for dropdown and radio options, the
// price times the quantity for quantity options, the price when "yes" for
// yes/no options. A disabled (negative) choice price counts as 0.
func (c *call) selectionPrice(o configOption, sel selection, cy cycle, cur int64) (cents, error) {
	if cy.Key == "free" {
		return 0, nil
	}
	p, err := c.loadPrices("configoptions", sel.OptionID, cur)
	if err != nil {
		return 0, err
	}
	v := p[cy.PriceColumn()]
	if v < 0 {
		v = 0
	}
	switch o.Type {
	case optQuantity:
		return v * cents(sel.Qty), nil
	case optYesNo:
		if sel.Qty > 0 {
			return v, nil
		}
		return 0, nil
	}
	return v, nil
}

// configRecurring is the recurring price of a set of selections on product
// pid's configurable options for cycle cy. Selections of options that are
// not linked to pid are ignored.
func (c *call) configRecurring(pid int64, sels map[int64]selection, cy cycle, cur int64) (cents, error) {
	opts, err := c.productConfigOptions(pid)
	if err != nil {
		return 0, err
	}
	var total cents
	for _, o := range opts {
		sel, ok := sels[o.ID]
		if !ok {
			continue
		}
		v, err := c.selectionPrice(o, sel, cy, cur)
		if err != nil {
			return 0, err
		}
		total += v
	}
	return total, nil
}

// customField is a product custom field.
type customField struct {
	ID                          int64
	Name, Description, Required string
}

// productCustomFields returns product pid's custom fields in display order.
func (c *call) productCustomFields(pid int64) ([]customField, error) {
	rows, err := c.tx.QueryContext(c.ctx, `SELECT id, fieldname, description, required FROM tblcustomfields
		WHERE type = 'product' AND relid = ? ORDER BY sortorder, id`, pid)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []customField
	for rows.Next() {
		var f customField
		if err := rows.Scan(&f.ID, &f.Name, &f.Description, &f.Required); err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// customFieldValues returns a service's custom field values by field id.
func (c *call) customFieldValues(serviceID int64) (map[int64]string, error) {
	rows, err := c.tx.QueryContext(c.ctx, `SELECT v.fieldid, v.value FROM tblcustomfieldsvalues v
		JOIN tblcustomfields f ON f.id = v.fieldid AND f.type = 'product' WHERE v.relid = ?`, serviceID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64]string{}
	for rows.Next() {
		var id int64
		var v string
		if err := rows.Scan(&id, &v); err != nil {
			return nil, err
		}
		out[id] = v
	}
	return out, rows.Err()
}
