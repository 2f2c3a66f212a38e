package whmcs

// Benchmarks of the client's hot paths: encoding a request's form and
// decoding a reply. Run with: go test -run '^$' -bench . ./whmcs

import (
	"encoding/json"
	"fmt"
	"testing"
)

func BenchmarkEncodeForm(b *testing.B) {
	id, limit := 1, 25
	status, notes := "Suspended", "moved to the new server"
	cases := []struct {
		name string
		req  any
	}{
		{"GetClientsProducts", &GetClientsProductsRequest{ClientID: &id, LimitNum: &limit}},
		{"UpdateClientProduct", &UpdateClientProductRequest{
			ServiceID: 2, Status: &status, Notes: &notes, NextDueDate: "2026-12-01",
			Unset:         []string{"ns1", "ns2"},
			CustomFields:  PHPArray{"1": "Yahoo"},
			ConfigOptions: PHPArray{"4": json.Number("2"), "7": map[string]any{"optionid": json.Number("3"), "qty": json.Number("2")}},
		}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := encodeForm(c.req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// benchProductsReply returns a GetClientsProducts reply of n services, copies of
// the two of WHMCS's reference example (everything a string, as WHMCS sends).
func benchProductsReply(tb testing.TB, n int) []byte {
	tb.Helper()
	var doc map[string]any
	if err := json.Unmarshal([]byte(docsGetClientsProducts), &doc); err != nil {
		tb.Fatal(err)
	}
	examples := doc["products"].(map[string]any)["product"].([]any)
	list := make([]any, n)
	for i := range list {
		p := map[string]any{}
		for k, v := range examples[i%len(examples)].(map[string]any) {
			p[k] = v
		}
		p["id"] = fmt.Sprint(i + 1)
		p["domain"] = fmt.Sprintf("site%d.example", i+1)
		list[i] = p
	}
	doc["products"] = map[string]any{"product": list}
	doc["totalresults"], doc["numreturned"] = fmt.Sprint(n), n
	raw, err := json.Marshal(doc)
	if err != nil {
		tb.Fatal(err)
	}
	return raw
}

func BenchmarkDecodeReply(b *testing.B) {
	for _, n := range []int{2, 25, 250} {
		reply := benchProductsReply(b, n)
		b.Run(fmt.Sprintf("GetClientsProducts/%d", n), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(reply)))
			for b.Loop() {
				var out GetClientsProductsResponse
				if err := decodeReply("GetClientsProducts", read, 200, "application/json", reply, &out); err != nil {
					b.Fatal(err)
				}
				if len(out.Products) != n {
					b.Fatalf("decoded %d services, want %d", len(out.Products), n)
				}
			}
		})
	}
}

// BenchmarkEncodeCompact is the other half of a read: writing the decoded
// services back out compactly (numbers as numbers, "none" values left out).
func BenchmarkEncodeCompact(b *testing.B) {
	for _, n := range []int{2, 25, 250} {
		var resp GetClientsProductsResponse
		if err := json.Unmarshal(benchProductsReply(b, n), &resp); err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("ClientProducts/%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := json.Marshal(resp.Products); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
