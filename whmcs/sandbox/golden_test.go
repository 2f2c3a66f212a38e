package sandbox

import (
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
)

// TestGoldenGetClientsProducts checks that client 1 reproduces the example of
// WHMCS's GetClientsProducts reference page exactly: same keys in the same
// order, same values and JSON types.
func TestGoldenGetClientsProducts(t *testing.T) {
	want := compactJSON(t, referenceExample(t, "GetClientsProducts"))

	h := newHarness(t, Options{})
	r := h.ok("GetClientsProducts", "clientid", "1")
	got := compactJSON(t, r.raw)
	if got != want {
		gt, wt := tokens(t, got), tokens(t, want)
		for i := 0; i < len(gt) && i < len(wt); i++ {
			if gt[i] != wt[i] {
				t.Fatalf("first difference at token %d: got %s, want %s\ngot:  %s\nwant: %s", i, gt[i], wt[i], got, want)
			}
		}
		t.Fatalf("replies differ in length (%d vs %d tokens)\ngot:  %s\nwant: %s", len(gt), len(wt), got, want)
	}
}

// tokens lists a JSON document's tokens with their Go types, so that "2" and
// 2 differ and key order shows.
func tokens(t *testing.T, doc string) []string {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(doc))
	dec.UseNumber()
	var out []string
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(tok)
		if d, ok := tok.(json.Delim); ok {
			b = []byte(d.String())
		}
		out = append(out, string(b))
	}
}

// TestGoldenUpgradeProductKeys checks that an UpgradeProduct reply has the
// keys of the reference example, in its order, with the same JSON types.
func TestGoldenUpgradeProductKeys(t *testing.T) {
	want := keyTypes(t, referenceExample(t, "UpgradeProduct"))
	h := newHarness(t, Options{})
	// Downgrade: applies at once, so invoiceid is null as in the example.
	r := h.ok("UpgradeProduct", "serviceid", "3", "paymentmethod", "paypal", "type", "product",
		"newproductid", "2", "newproductbillingcycle", "monthly")
	got := keyTypes(t, r.raw)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("keys/types\ngot:  %v\nwant: %v", got, want)
	}
}

// keyTypes lists a flat object's keys with the JSON type of their values.
func keyTypes(t *testing.T, doc []byte) []string {
	t.Helper()
	toks := tokens(t, string(doc))
	var out []string
	for i := 1; i+1 < len(toks); i += 2 {
		v := toks[i+1]
		typ := "number"
		switch {
		case v == "null":
			typ = "null"
		case strings.HasPrefix(v, `"`):
			typ = "string"
		case v == "true" || v == "false":
			typ = "bool"
		}
		out = append(out, toks[i]+":"+typ)
	}
	return out
}
