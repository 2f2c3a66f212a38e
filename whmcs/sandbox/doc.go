// Package sandbox is a WHMCS-compatible API server backed by SQLite.
//
// It answers POST /includes/api.php like a WHMCS install does (form-encoded
// or multipart requests, identifier/secret or username/password
// authentication, an optional IP allowlist and access key, WHMCS's reply
// shapes and error messages) for the actions whmcs-mcp's tools call (a test in package tools
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
// # Mirroring WHMCS
//
// The sandbox is what a newcomer tries first, what agents and tests learn
// WHMCS from, and the test double for every test of the project. It answers
// only the errors WHMCS documents or is shown to send, and invents none: a
// refusal WHMCS may never make would teach an agent to rely on it, and the
// agent would then write junk into a real install. Validating input is the
// tools' job. Where WHMCS's behaviour is not known, the sandbox does what
// WHMCS most plausibly does. Each such choice is listed below with its
// evidence: documented (a page of WHMCS's documentation), seen (in public
// clients or bug reports), or unverified (a guess, with its reasoning). The
// API reference pages are https://developers.whmcs.com/api-reference/<action>/,
// with <action> in lower case.
//
// The errors the sandbox answers, all documented on the action's reference
// page: "Service ID Not Found" (UpdateClientProduct, UpgradeProduct); "Addon
// ID Not Found" and "Nothing to Update" (UpdateClientAddon); "Unable to accept
// upgrade order. Previous upgrade invoice for service is still unpaid.",
// "Invalid Payment Method. Valid options include ..." and "Invalid Upgrade
// Type" (UpgradeProduct); "Invoice ID Not Found" and "It is not possible to
// add a payment to an invoice that is Cancelled" (AddInvoicePayment). Besides
// them, for every action: "Authentication Failed" and "Invalid IP <ip>"
// (HTTP 403, see Access control below), "Command Not Found", and "Invalid
// Permissions: API action "<action>" is not allowed" for Options.DeniedActions
// (the message is seen in https://github.com/drosendo/whmcs-custom-apis/issues/2;
// its HTTP status, 403, is unverified).
//
// Requests, in every action:
//   - Replies are JSON even without responsetype=json (WHMCS would answer
//     XML); a request that is not a POST gets 405, a body that does not parse
//     400 "Invalid request body: ...", and a fault of the sandbox itself 500
//     "Internal Error: ...". These are the sandbox's own, below the API
//     (every client of this project sends responsetype=json by POST).
//   - A parameter counts as given when it is non-empty: PHP code tests
//     parameters for truthiness (unverified); clearing a text field takes
//     UpdateClientProduct's unset[]. Unlike PHP, "0" counts as given, so
//     diskusage=0 sets the usage to 0.
//   - Booleans (calconly, autorecalc, noemail) are PHP's truthiness: "" and
//     "0" are false, every other string, "false" and "off" included, is true.
//     Unverified that WHMCS casts them so; the truthiness is documented
//     (https://www.php.net/manual/en/language.types.boolean.php), and this
//     project's client already sends "1" or nothing for that reason.
//   - Numbers (ids, usage, quantities, amounts) are read as PHP casts a
//     string: its leading number, "12.5 USD" as 12.5 and "ten" as 0
//     (https://www.php.net/manual/en/language.types.numeric-strings.php).
//     Negative values are kept; amounts are rounded to cents and bounded as a
//     DECIMAL(16,2) column stores them. Unverified.
//   - Dates are stored as a MySQL DATE column keeps them outside strict
//     mode: a real Y-m-d date as it is, anything else (2026-02-30,
//     22/11/2026) as 0000-00-00. Unverified; WHMCS's date fields read back as
//     0000-00-00 when empty (the GetClientsProducts example shows it), and
//     MySQL's conversion of an invalid date to the zero date is documented
//     (https://dev.mysql.com/doc/refman/8.0/en/date-and-time-types.html).
//   - A status or billing cycle that is one of WHMCS's, in any case (and a
//     cycle's short form, "semiannually"), is stored with WHMCS's spelling, as
//     an ENUM column matches its values; any other value is stored as given.
//     Unverified.
//   - Empty lists are sent as "" ("products": "", "addons": ""), what PHP's
//     XML-era replies made of an empty element (unverified for JSON replies;
//     the project's client reads "", [], {} and null alike).
//
// UpdateClientProduct no longer answers these errors, none of which WHMCS
// documents or is shown to send (all unverified choices):
//   - "Invalid Status": a status is stored as given (see above).
//   - "Invalid Billing Cycle": stored as given.
//   - "Invalid Payment Method": paymentmethod is stored as given; WHMCS
//     documents that error for UpgradeProduct only.
//   - "Invalid Date Format": dates are stored as a DATE column keeps them.
//   - "Invalid overideautosuspend": "on" (any case) sets the override, any
//     other value clears it, as "off" does.
//   - "Invalid unset item": items outside the documented list are ignored.
//   - "Invalid customfields" (not base64(serialize(array)), or "N is not a
//     custom field of product N"): a value that does not decode to an array
//     is ignored, and so are keys that are not custom fields of the service's
//     (new) product and values that are not scalars.
//   - "Invalid configoptions": a value that does not decode is ignored, and
//     so are keys that are not configurable options of the service's (new)
//     product; the others are stored as given, without checking the choice
//     against the option's choices or the quantity against its bounds.
//   - Negative or non-numeric amounts and usage numbers: read as PHP does.
//   - "Server ID Not Found", "Promotion ID Not Found": the id is stored as
//     given.
//   - "Product ID Not Found": a pid that names no product leaves the service's
//     product as it is; WHMCS may well store the id, but the sandbox keeps
//     every service on a product that exists.
//   - "Unable to recalculate": autorecalc on a cycle the product has no price
//     for (not sold, or not a cycle) leaves the recurring amount as it is.
//
// UpdateClientAddon no longer answers, likewise (unverified choices):
//   - "Invalid Addon ID": addonid is stored as given.
//   - "Invalid Status", "Invalid Billing Cycle", "Invalid Date Format",
//     negative or non-numeric amounts: stored as UpdateClientProduct stores
//     them.
//   - "Unable to recalculate": autorecalc on a cycle the addon has no price
//     for leaves the recurring amount as it is.
//
// UpgradeProduct no longer answers, likewise (unverified choices):
//   - "Invalid New Product ID": a newproductid that names no product, or none,
//     counts as not given: the service's own product.
//   - "Invalid Billing Cycle Requested": a newproductbillingcycle that is not
//     one of WHMCS's cycles counts as not given (the service's cycle) and is
//     echoed as given; a cycle the new product does not sell (-1.00) prices
//     the product at 0.00.
//   - "Invalid Product Upgrade": any product may be the new one, the
//     service's own included (with its own cycle too: price 0.00). The
//     upgrade paths a product lists are what the client area offers; an
//     admin can upgrade to any product, and the API is the admin's.
//   - "Invalid Promotion Code": a code that is not a promotion valid for
//     upgrades is ignored.
//   - "Invalid calconly": calconly is PHP truthiness.
//   - "Invalid configoptions" (none given, not an option of the product, the
//     current values, not a number, a choice of another option, a quantity
//     out of bounds): option ids that are not the product's are ignored,
//     values are read as PHP's (int) and stored as given, and a request that
//     changes nothing is quoted (and ordered) at 0.00.
//
// UpgradeProduct from a free product (or the Free Account cycle) to a
// recurring cycle sets the next due date one billing cycle after the upgrade
// date, as WHMCS documents ("Free to Paid Products" in
// https://docs.whmcs.com/products/upgrades-and-downgrades/); any other
// upgrade keeps it ("The Next Due Date value doesn't change", same page). The
// upgrade date is the day the upgrade was ordered, and the date is set when
// the upgrade applies (at once, or when its invoice is paid): both
// unverified. A cycle is its calendar months, and a day past the end of the
// month rolls over (January 31 plus a month is March 3), as PHP's
// strtotime("+1 month") does (unverified that WHMCS adds months so).
//
// AddInvoicePayment:
//   - A payment to a Cancelled invoice answers WHMCS's documented "It is not
//     possible to add a payment to an invoice that is Cancelled"
//     (https://developers.whmcs.com/api-reference/addinvoicepayment/).
//   - "Transaction ID is required" is gone: the docs mark transid required
//     but list no error for it, and none is shown; the payment is recorded
//     with the transid as given, even empty (unverified).
//   - A gateway that is not configured is stored as given, and a date that is
//     neither Y-m-d H:i:s nor Y-m-d is now (unverified).
//   - A payment to a Paid invoice (or any status but Unpaid and Cancelled) is
//     recorded and changes nothing else; the docs list no such refusal
//     (unverified).
//
// GetProducts replies in the shape and JSON types of its reference example
// (documented, https://developers.whmcs.com/api-reference/getproducts/):
// numeric pid, gid and custom field, option and choice ids; a configurable
// option's type as WHMCS's numeric code in a string ("1" dropdown, "2" radio,
// "3" yes/no, "4" quantity; the example shows "3"), where GetClientsProducts
// shows a word (its example shows "dropdown"); "minqty" and "maxqty" on every
// option (8.12); "slug" and "product-url" (8.3); "allowqty" and
// "quantity_available" (8.12); totalresults a number, with no startnumber or
// numreturned (the response table lists them, the example has neither);
// prices with prefix and suffix for products and without for option choices.
// Where the example is the only evidence:
//   - The key is "product-url", as in the example, though the changelog calls
//     it product_url: unverified which one real installs send.
//   - A slug is made from the name (lower case, other characters than letters
//     and digits a hyphen), and the product URL is the sandbox's address as
//     the request reached it, then the group's slug and the product's, in the
//     example's form: unverified.
//   - A choice's "rawName", "recurring" and "required" are the example's
//     null, 0 and null, whatever the choice: unverified what they hold.
//   - quantity_available is the product's stock (tblproducts.qty):
//     unverified.
//   - Every custom field of a product is listed: WHMCS lists only those shown
//     on the order form (documented), a setting the sandbox does not have.
//
// GetClientsAddons replies in the shape and JSON types of its reference
// example (documented,
// https://developers.whmcs.com/api-reference/getclientsaddons/): serviceid
// takes one id or a comma-separated list; serviceid and clientid are echoed
// as given, and "" when not given; totalresults is a string; each addon has
// "qty" (8.12) after its id and "paymentmethodname" after its payment method.
// The example writes the list flattened ("addons[addon][0][id]"), which
// reads as a rendering of a PHP array; the sandbox sends it nested
// ({"addons": {"addon": [...]}}), as every other list in the reference's
// examples is (unverified for this action).
//
// Access control: an address on Options.AllowIPs (whmcs-mcp sandbox
// --allow-ip) needs no access key, and the access key (accesskey, --access-key)
// lets any other address in, as WHMCS documents ("an access key can be
// configured to allow IP restrictions to be bypassed",
// https://developers.whmcs.com/api/access-control/); anyone else gets
// "Invalid IP <address>" with HTTP 403 (the message is seen in
// https://github.com/darthsoup/php-whmcs-api/issues/3; the status is
// unverified). A wrong key from an allowed address does not matter
// (unverified). With neither an allowlist nor a key every address is let in:
// a WHMCS install would let none in, which would only get in a sandbox's way.
//
// Other choices:
//   - Upgrade proration uses 30-day months and 365-day years (unverified;
//     the UpgradeProduct example shows 30 days for Monthly).
package sandbox
