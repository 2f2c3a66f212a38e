// Package sandbox is a WHMCS-compatible API server backed by SQLite.
//
// It answers POST /includes/api.php like a WHMCS install does (form-encoded
// or multipart requests, identifier/secret or username/password
// authentication, an optional access key, WHMCS's reply shapes and error
// messages) for the actions whmcs-mcp's tools call (a test in package tools
// holds every tool's action to it), and AddInvoicePayment, with which tests
// pay the invoices upgrades create; the actions are listed in server.go.
// Action names are case-insensitive; any other action is "Command Not Found".
//
// The data model is WHMCS's own, simplified: tblclients, tblproductgroups,
// tblproducts, tblpricing (per currency and cycle, -1.00 for a disabled
// cycle), tblservers, tblhosting (services), custom fields, configurable
// options, tbladdons and tblhostingaddons, tblpaymentgateways, tblorders,
// tblinvoices and their items, tblaccounts (payments), tblupgrades and
// tblpromotions. The driver is modernc.org/sqlite (pure Go, no cgo); the
// database is private and in memory, or a file.
//
// A new database is seeded with demo data (see seed): client 1 reproduces the
// GetClientsProducts example of WHMCS's API reference exactly, clients 2 to 4
// have services in several product groups and states, addons, configurable
// options and custom fields, with dates relative to the sandbox clock, and
// service 3 reproduces the reference's UpgradeProduct example ($-8.67 USD,
// 13 of 30 days). Use FixedClock for reproducible results.
//
// Every request runs in one SQL transaction on a single connection, so
// requests are serialized, read-check-write sequences are atomic, and a
// request that fails changes nothing. Writes counts successful write actions
// for tests.
//
// The sandbox is what a newcomer tries first and the test double for every
// test of the project. Where WHMCS's documentation is silent, the choice made
// is written in the doc comment of the handler that makes it; the common
// ones:
//   - Replies are JSON even without responsetype=json (WHMCS would answer
//     XML).
//   - Errors are HTTP 200 {"result":"error","message":...}, except
//     "Authentication Failed" and "Invalid IP <ip>" (wrong access key), which
//     are HTTP 403, as WHMCS does. Non-POST requests get 405.
//   - A parameter counts as given when it is non-empty; values are checked
//     strictly (real Y-m-d dates, known statuses, cycles, gateways, ids) and
//     an invalid one is an error rather than being stored.
//   - Empty lists are sent as "" ("products": "", "addons": ""), as several
//     WHMCS versions do for GetClientsProducts.
//   - Booleans (calconly, autorecalc, noemail) accept 1/true/on/yes and
//     0/false/off/no; anything else is an error.
//   - Upgrade proration uses 30-day months and 365-day years.
package sandbox
