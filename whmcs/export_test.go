package whmcs

// DocsGetClientsProductsReply is the GetClientsProducts example reply of
// WHMCS's API reference, for the external tests against the sandbox.
var DocsGetClientsProductsReply = docsGetClientsProducts
