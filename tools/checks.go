package tools

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/whmcs-mcp/whmcs-mcp/whmcs"
)

// Checks declares which arguments of a write name something WHMCS lists. The
// shared handler path checks them against what WHMCS lists (through the
// Catalog) after the caller's scope and before the tool runs, so a call
// WHMCS would store wrongly or silently ignore is refused with an error that
// names the argument and what is valid, before it is previewed, asked about
// or sent. Statuses, billing cycles and dates are checked earlier, by the
// input schema (enums, format date).
//
// Left to WHMCS, unchecked: serverid and promoid (WHMCS lists servers and
// promotions with GetServers and GetPromotions, which the sandbox WHMCS does
// not implement, so no test could show such a check right), upgrade_product's
// promocode (GetPromotions again), and update_client_addon's addonid (no API
// action lists the addon catalogue: GetProducts lists products only).
type Checks struct {
	// PaymentMethod names the argument that takes a payment gateway's
	// module name, checked against GetPaymentMethods.
	PaymentMethod string
	// Products names the arguments that take a product id, checked against
	// GetProducts. The first one given is the product the call moves the
	// service to: CustomFields and ConfigOptions are then that product's.
	Products []string
	// Service names the argument that selects the service whose product's
	// custom fields and configurable options CustomFields and ConfigOptions
	// take. It is read fresh (GetClientsProducts) when they are given and
	// its product, or its own custom fields, are needed.
	Service string
	// CustomFields names the argument of custom field values by field id.
	// The ids are those GetProducts lists for the product, which are only
	// the fields shown on the order form, and those GetClientsProducts lists
	// for the service when the product does not change.
	CustomFields string
	// ConfigOptions names the argument of configurable option values by
	// option id, and ConfigValues how the action takes its values.
	ConfigOptions string
	ConfigValues  ConfigValues
}

// ConfigValues says how an action takes configurable option values.
type ConfigValues int

// The ways actions take configurable option values.
const (
	// ChoiceOrSelection is UpdateClientProduct's: a choice id, or
	// {"optionid": choice id, "qty": N}. WHMCS stores the choice and the
	// quantity as given, a plain choice id with quantity 0, so quantity and
	// yes/no options need the object.
	ChoiceOrSelection ConfigValues = iota + 1
	// ChoiceOrQuantity is UpgradeProduct's: the choice id of a dropdown or
	// radio option, the quantity of a quantity option, 1 or 0 for yes/no.
	ChoiceOrQuantity
)

// The kinds of configurable option, by the codes WHMCS's GetProducts sends
// ("1" to "4") and the words the sandbox WHMCS sends.
const (
	optionDropdown = "dropdown"
	optionRadio    = "radio"
	optionYesNo    = "yesno"
	optionQuantity = "quantity"
)

// optionKind returns the kind of a configurable option from its type, ""
// when unknown (its values are then not checked).
func optionKind(t whmcs.String) string {
	switch strings.ToLower(strings.TrimSpace(string(t))) {
	case "1", optionDropdown:
		return optionDropdown
	case "2", optionRadio:
		return optionRadio
	case "3", optionYesNo:
		return optionYesNo
	case "4", optionQuantity:
		return optionQuantity
	}
	return ""
}

// empty reports whether nothing is declared.
func (ch *Checks) empty() bool {
	return ch.PaymentMethod == "" && len(ch.Products) == 0 && ch.CustomFields == "" && ch.ConfigOptions == ""
}

// run checks a call's arguments (JSON that passed the schema and the scope)
// and returns one error naming every argument WHMCS does not list, nil when
// all hold. A read that fails is an error too, so that nothing unchecked is
// sent; a service that does not exist is WHMCS's not-found error.
func (ch *Checks) run(ctx context.Context, deps *Deps, raw json.RawMessage) error {
	if ch.empty() {
		return nil
	}
	var args map[string]json.RawMessage
	if err := json.Unmarshal(raw, &args); err != nil {
		return fmt.Errorf("arguments: %v", err)
	}
	k := &checker{ctx: ctx, deps: deps, cat: deps.catalog(), args: args}
	if err := k.paymentMethod(ch.PaymentMethod); err != nil {
		return err
	}
	target, exists, err := k.products(ch.Products)
	if err != nil {
		return err
	}
	if exists {
		if err := k.serviceProduct(ch, target); err != nil {
			return err
		}
	}
	if len(k.problems) == 0 {
		return nil
	}
	return errors.New("invalid arguments: " + strings.Join(k.problems, "; "))
}

// checker gathers the problems of one call's arguments.
type checker struct {
	ctx      context.Context
	deps     *Deps
	cat      *Catalog
	args     map[string]json.RawMessage
	problems []string
}

// refuse records a problem with argument arg.
func (k *checker) refuse(arg, format string, a ...any) {
	k.problems = append(k.problems, fmt.Sprintf("argument %q: ", arg)+fmt.Sprintf(format, a...))
}

// readFailed is the error of a read the checks needed.
func readFailed(arg, action string, err error) error {
	return fmt.Errorf("could not check the arguments against WHMCS (%s, for %q: %v); nothing was sent", action, arg, err)
}

// paymentMethod checks argument name against WHMCS's active gateways.
func (k *checker) paymentMethod(name string) error {
	raw, ok := k.args[name]
	if name == "" || !ok {
		return nil
	}
	var method string
	if err := json.Unmarshal(raw, &method); err != nil {
		k.refuse(name, "expected a string")
		return nil
	}
	methods, err := k.cat.PaymentMethods(k.ctx)
	if err != nil {
		return readFailed(name, "GetPaymentMethods", err)
	}
	valid := make([]string, 0, len(methods))
	for _, m := range methods {
		if string(m.Module) == method {
			return nil
		}
		valid = append(valid, fmt.Sprintf("%s (%s)", Describe(string(m.Module)), Clean(string(m.DisplayName))))
	}
	if len(valid) == 0 {
		k.refuse(name, "%s is not an active payment gateway: WHMCS has none active", Describe(method))
		return nil
	}
	k.refuse(name, "%s is not an active payment gateway; valid: %s (see get_payment_methods)", Describe(method), strings.Join(valid, ", "))
	return nil
}

// products checks the product id arguments. It returns the product the
// call moves the service to (the first one given; nil when none is), and
// false when that product does not exist: its custom fields and options are
// then not checked.
func (k *checker) products(names []string) (*whmcs.Product, bool, error) {
	var target *whmcs.Product
	given := false
	for _, name := range names {
		raw, ok := k.args[name]
		if !ok {
			continue
		}
		pid, err := strconv.Atoi(string(raw))
		if err != nil {
			k.refuse(name, "expected a product id")
			continue
		}
		p, err := k.cat.Product(k.ctx, pid)
		if err != nil {
			return nil, false, readFailed(name, "GetProducts", err)
		}
		if p == nil {
			k.refuse(name, "product %d does not exist in WHMCS (see get_products)", pid)
		}
		if !given {
			target, given = p, true
		}
	}
	return target, !given || target != nil, nil
}

// serviceProduct checks custom fields and configurable options against the
// product the call moves the service to (target), else the one the service
// has. The service is read, fresh, when that product or the service's own
// custom fields are needed.
func (k *checker) serviceProduct(ch *Checks, target *whmcs.Product) error {
	_, hasFields := k.args[ch.CustomFields]
	_, hasOptions := k.args[ch.ConfigOptions]
	hasFields = hasFields && ch.CustomFields != ""
	hasOptions = hasOptions && ch.ConfigOptions != ""
	if !hasFields && !hasOptions {
		return nil
	}
	product := target
	var service *whmcs.ClientProduct
	if hasFields || product == nil {
		var err error
		if service, err = k.service(ch.Service); err != nil {
			return err
		}
	}
	if product == nil {
		var err error
		if product, err = k.cat.Product(k.ctx, int(service.PID)); err != nil {
			return readFailed(ch.Service, "GetProducts", err)
		}
	}
	var label string
	var pid int
	var fields []whmcs.ProductCustomField
	var options []whmcs.ProductConfigOption
	if product != nil {
		label, pid = fmt.Sprintf("product %d (%s)", int(product.PID), Clean(string(product.Name))), int(product.PID)
		fields, options = product.CustomFields, product.ConfigOptions
	} else { // GetProducts does not list the service's product: its options are left to WHMCS
		label, pid = fmt.Sprintf("product %d", int(service.PID)), int(service.PID)
		hasOptions = false
	}
	if hasFields {
		valid := map[int]string{}
		for _, f := range fields {
			valid[int(f.ID)] = string(f.Name)
		}
		if pid == int(service.PID) {
			for _, f := range service.CustomFields {
				valid[int(f.ID)] = string(f.Name)
			}
		}
		k.customFields(ch.CustomFields, label, valid)
	}
	if hasOptions {
		k.configOptions(ch.ConfigOptions, ch.ConfigValues, label, options)
	}
	return nil
}

// service reads the service that argument name selects, with WHMCS's
// not-found error when there is none.
func (k *checker) service(name string) (*whmcs.ClientProduct, error) {
	id, err := strconv.Atoi(string(k.args[name]))
	if err != nil {
		return nil, fmt.Errorf("argument %q: expected an id", name)
	}
	resp, err := k.deps.WHMCS.GetClientsProducts(k.ctx, whmcs.GetClientsProductsRequest{ServiceID: &id})
	if err != nil {
		return nil, readFailed(name, "GetClientsProducts", err)
	}
	if len(resp.Products) == 0 || int(resp.Products[0].ID) != id {
		return nil, &whmcs.APIError{Action: "GetClientsProducts", Message: serviceNotFound}
	}
	return &resp.Products[0], nil
}

// customFields checks the keys of argument name against valid (id -> name).
func (k *checker) customFields(name, label string, valid map[int]string) {
	var given map[string]json.RawMessage
	if err := json.Unmarshal(k.args[name], &given); err != nil {
		k.refuse(name, "expected an object of values by custom field id")
		return
	}
	for _, key := range slices.Sorted(maps.Keys(given)) {
		if id, err := strconv.Atoi(key); err == nil && strconv.Itoa(id) == key {
			if _, ok := valid[id]; ok {
				continue
			}
		}
		if len(valid) == 0 {
			k.refuse(name, "%s is not a custom field of %s, which has none", Describe(key), label)
			continue
		}
		list := make([]string, 0, len(valid))
		for _, id := range slices.Sorted(maps.Keys(valid)) {
			list = append(list, fmt.Sprintf("%d (%s)", id, Clean(valid[id])))
		}
		k.refuse(name, "%s is not a custom field of %s; its custom fields: %s", Describe(key), label, strings.Join(list, ", "))
	}
}

// configOptions checks argument name's option ids and values against the
// product's configurable options.
func (k *checker) configOptions(name string, form ConfigValues, label string, options []whmcs.ProductConfigOption) {
	var given map[string]json.RawMessage
	if err := json.Unmarshal(k.args[name], &given); err != nil {
		k.refuse(name, "expected an object of values by configurable option id")
		return
	}
	byID := map[int]*whmcs.ProductConfigOption{}
	for i := range options {
		byID[int(options[i].ID)] = &options[i]
	}
	for _, key := range slices.Sorted(maps.Keys(given)) {
		var o *whmcs.ProductConfigOption
		if id, err := strconv.Atoi(key); err == nil && strconv.Itoa(id) == key {
			o = byID[id]
		}
		if o == nil {
			if len(options) == 0 {
				k.refuse(name, "%s is not a configurable option of %s, which has none", Describe(key), label)
				continue
			}
			list := make([]string, 0, len(options))
			for _, o := range options {
				list = append(list, fmt.Sprintf("%d (%s)", int(o.ID), Clean(string(o.Name))))
			}
			k.refuse(name, "%s is not a configurable option of %s; its options: %s", Describe(key), label, strings.Join(list, ", "))
			continue
		}
		arg := name + "." + key
		if form == ChoiceOrQuantity {
			k.upgradeValue(arg, o, given[key])
		} else {
			k.selection(arg, o, given[key])
		}
	}
}

// optionLabel names an option, e.g. option 3 (Extra IPv4 Addresses).
func optionLabel(o *whmcs.ProductConfigOption) string {
	return fmt.Sprintf("option %d (%s)", int(o.ID), Clean(string(o.Name)))
}

// selection checks an UpdateClientProduct value: a choice id, or
// {"optionid": choice id, "qty": N}.
func (k *checker) selection(arg string, o *whmcs.ProductConfigOption, raw json.RawMessage) {
	var sel struct {
		OptionID int `json:"optionid"`
		Qty      int `json:"qty"`
	}
	plain := json.Unmarshal(raw, &sel.OptionID) == nil
	if !plain && json.Unmarshal(raw, &sel) != nil {
		k.refuse(arg, `expected a choice id or {"optionid": ID, "qty": N}`)
		return
	}
	kind := optionKind(o.Type)
	if plain && (kind == optionQuantity || kind == optionYesNo) {
		what := "a quantity option"
		if kind == optionYesNo {
			what = "a yes/no option (qty 1 for yes, 0 for no)"
		}
		k.refuse(arg, `%s is %s: give {"optionid": %s, "qty": N}; a plain choice id sets quantity 0`, optionLabel(o), what, choiceHint(o))
		return
	}
	if !k.choice(arg, o, sel.OptionID) {
		return
	}
	switch kind {
	case optionYesNo:
		if sel.Qty != 0 && sel.Qty != 1 {
			k.refuse(arg, "%s is yes/no: qty 1 (yes) or 0 (no), not %d", optionLabel(o), sel.Qty)
		}
	case optionQuantity:
		k.quantity(arg, o, sel.Qty)
	}
}

// upgradeValue checks an UpgradeProduct value: the choice id of a dropdown
// or radio option, the quantity of a quantity option, 1 or 0 for yes/no.
func (k *checker) upgradeValue(arg string, o *whmcs.ProductConfigOption, raw json.RawMessage) {
	var text string
	if json.Unmarshal(raw, &text) != nil {
		text = string(raw)
	}
	n, err := strconv.Atoi(text)
	if err != nil {
		k.refuse(arg, "expected an integer (a choice id, a quantity, or 1/0 for yes/no), got %s", Describe(text))
		return
	}
	switch optionKind(o.Type) {
	case optionDropdown, optionRadio:
		k.choice(arg, o, n)
	case optionYesNo:
		if n != 0 && n != 1 {
			k.refuse(arg, "%s is yes/no: 1 (yes) or 0 (no), not %d", optionLabel(o), n)
		}
	case optionQuantity:
		k.quantity(arg, o, n)
	}
}

// choice checks that id is one of the option's choices.
func (k *checker) choice(arg string, o *whmcs.ProductConfigOption, id int) bool {
	list := make([]string, 0, len(o.Options))
	for _, c := range o.Options {
		if int(c.ID) == id {
			return true
		}
		list = append(list, fmt.Sprintf("%d (%s)", int(c.ID), Clean(string(c.Name))))
	}
	if len(list) == 0 {
		k.refuse(arg, "%d is not a choice of %s, which has none", id, optionLabel(o))
		return false
	}
	k.refuse(arg, "%d is not a choice of %s; its choices: %s", id, optionLabel(o), strings.Join(list, ", "))
	return false
}

// choiceHint is the choice id to show in an example: the option's only
// choice, else ID.
func choiceHint(o *whmcs.ProductConfigOption) string {
	if len(o.Options) == 1 {
		return strconv.Itoa(int(o.Options[0].ID))
	}
	return "ID"
}

// quantity checks a quantity option's quantity: not negative, and within
// the option's bounds where WHMCS sends them (8.12 on; a maximum of 0 is no
// bound).
func (k *checker) quantity(arg string, o *whmcs.ProductConfigOption, qty int) {
	lo, hi := max(int(o.MinQty), 0), int(o.MaxQty)
	switch {
	case hi > 0 && (qty < lo || qty > hi):
		k.refuse(arg, "quantity %d is outside %s's bounds, %d to %d", qty, optionLabel(o), lo, hi)
	case qty < lo:
		k.refuse(arg, "quantity %d is below %s's minimum, %d", qty, optionLabel(o), lo)
	}
}
