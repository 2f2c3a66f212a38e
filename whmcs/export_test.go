package whmcs

// DocsGetClientsProductsReply is the GetClientsProducts example reply of
// WHMCS's API reference, for the external tests against the sandbox.
var DocsGetClientsProductsReply = docsGetClientsProducts

// DecodeReply is decodeReply, for the external benchmarks.
func DecodeReply(reply []byte, out any) error {
	return decodeReply("GetClientsProducts", read, 200, "application/json", reply, out)
}
