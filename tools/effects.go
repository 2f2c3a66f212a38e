package tools

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"

	"github.com/whmcs-mcp/whmcs-mcp/whmcs"
)

// Effects are what a write can change that the policy guards, whichever
// argument changes it: a call that can change a guarded effect needs a
// preview and a confirmation.
const (
	EffectStatus     = "status"       // the service's or addon's status
	EffectProduct    = "product"      // which product or addon it is, or its configuration
	EffectPrice      = "price"        // what it costs: amounts, fees, promotions, recalculation
	EffectCycle      = "billingcycle" // how often it is billed
	EffectDates      = "dates"        // next due and termination dates
	EffectSuspension = "suspension"   // overrides of automatic suspension
)

// Effects lists every effect, in the order a preview shows them: status,
// product and money first.
var Effects = []string{EffectStatus, EffectProduct, EffectPrice, EffectCycle, EffectDates, EffectSuspension}

// serviceEffects maps update_client_product's arguments to what they change.
var serviceEffects = map[string]string{
	"status":              EffectStatus,
	"pid":                 EffectProduct,
	"configoptions":       EffectProduct,
	"recurringamount":     EffectPrice,
	"firstpaymentamount":  EffectPrice,
	"promoid":             EffectPrice,
	"autorecalc":          EffectPrice,
	"billingcycle":        EffectCycle,
	"nextduedate":         EffectDates,
	"terminationdate":     EffectDates,
	"overideautosuspend":  EffectSuspension,
	"overidesuspenduntil": EffectSuspension,
}

// addonEffects maps update_client_addon's arguments to what they change.
var addonEffects = map[string]string{
	"status":          EffectStatus,
	"addonid":         EffectProduct,
	"setupfee":        EffectPrice,
	"recurring":       EffectPrice,
	"autorecalc":      EffectPrice,
	"billingcycle":    EffectCycle,
	"nextduedate":     EffectDates,
	"terminationdate": EffectDates,
}

// UpdateFields returns the arguments of the update tools that the policy's
// guarded_fields may name (every field but the id of the record), sorted.
func UpdateFields() []string {
	var fields []string
	for _, t := range []reflect.Type{reflect.TypeFor[whmcs.UpdateClientProductRequest](), reflect.TypeFor[whmcs.UpdateClientAddonRequest]()} {
		for i := range t.NumField() {
			name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
			if name != "serviceid" && name != "id" && !slices.Contains(fields, name) {
				fields = append(fields, name)
			}
		}
	}
	slices.Sort(fields)
	return fields
}

// touched returns the fields an update's arguments change: every argument
// given, with each field of unset standing for itself, and autorecalc only
// when true (false recalculates nothing).
func touched(changes map[string]any) []string {
	var fields []string
	for field, v := range changes {
		switch field {
		case "unset":
			items, _ := v.([]any)
			for _, item := range items {
				if s, ok := item.(string); ok {
					fields = append(fields, s)
				}
			}
		case "autorecalc":
			if v == true {
				fields = append(fields, field)
			}
		default:
			fields = append(fields, field)
		}
	}
	slices.Sort(fields)
	return slices.Compact(fields)
}

// changesOf returns the JSON object of a request: the fields it sets, with
// numbers kept as json.Number.
func changesOf(v any) map[string]any {
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	var m map[string]any
	if dec.Decode(&m) != nil {
		return nil
	}
	return m
}
