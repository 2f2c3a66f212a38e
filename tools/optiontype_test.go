package tools

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestGetProductsNamesOptionTypes: WHMCS's GetProducts sends configurable
// option types as codes ("1" to "4"); get_products gives the model words.
func TestGetProductsNamesOptionTypes(t *testing.T) {
	deps, _ := newSandboxDeps(t)
	var products ProductsResult
	if err := json.Unmarshal([]byte(resultText(callHandler(t, GetProducts(deps), `{"pid": 5}`))), &products); err != nil {
		t.Fatal(err)
	}
	if len(products.Products) != 1 {
		t.Fatalf("get_products pid 5: %+v", products)
	}
	var types []string
	for _, o := range products.Products[0].ConfigOptions {
		types = append(types, string(o.Name)+"="+string(o.Type))
	}
	want := "Memory=dropdown,Extra IPv4 Addresses=quantity,Daily Backups=yesno,Operating System=radio"
	if got := strings.Join(types, ","); got != want {
		t.Errorf("option types %s, want %s", got, want)
	}
	// A word (as GetClientsProducts sends) or a code WHMCS may add stays as it is.
	if optionType("dropdown") != "dropdown" || optionType("7") != "7" {
		t.Errorf("optionType changed a value it does not know")
	}
}
