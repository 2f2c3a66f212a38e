package sandbox

import (
	"context"
	"database/sql"
	"fmt"
)

// schema creates the sandbox's tables. Names and columns follow WHMCS's own
// database (tblclients, tblhosting, tblpricing, ...), trimmed to what the
// sandbox's actions read and write, so that anyone who knows WHMCS can read the
// data. Amounts are REAL holding two-decimal values, dates are 'Y-m-d' text
// with WHMCS's '0000-00-00' for "none".
const schema = `
CREATE TABLE IF NOT EXISTS tblcurrencies (
	id        INTEGER PRIMARY KEY,
	code      TEXT NOT NULL UNIQUE,
	prefix    TEXT NOT NULL DEFAULT '',
	suffix    TEXT NOT NULL DEFAULT '',
	isdefault INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE IF NOT EXISTS tblclients (
	id          INTEGER PRIMARY KEY,
	firstname   TEXT NOT NULL DEFAULT '',
	lastname    TEXT NOT NULL DEFAULT '',
	companyname TEXT NOT NULL DEFAULT '',
	email       TEXT NOT NULL DEFAULT '',
	currency    INTEGER NOT NULL DEFAULT 1 REFERENCES tblcurrencies(id),
	status      TEXT NOT NULL DEFAULT 'Active',
	datecreated TEXT NOT NULL DEFAULT '0000-00-00'
);

-- Payment gateways. WHMCS stores gateway settings as key/value rows in
-- tblpaymentgateways; the sandbox keeps one row per gateway.
CREATE TABLE IF NOT EXISTS tblpaymentgateways (
	gateway   TEXT PRIMARY KEY,
	name      TEXT NOT NULL,
	sortorder INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE IF NOT EXISTS tblservers (
	id        INTEGER PRIMARY KEY,
	name      TEXT NOT NULL,
	ipaddress TEXT NOT NULL DEFAULT '',
	hostname  TEXT NOT NULL DEFAULT '',
	type      TEXT NOT NULL DEFAULT ''
);

CREATE TABLE IF NOT EXISTS tblproductgroups (
	id        INTEGER PRIMARY KEY,
	name      TEXT NOT NULL,
	hidden    INTEGER NOT NULL DEFAULT 0,
	sortorder INTEGER NOT NULL DEFAULT 0
);

-- type: hostingaccount, reselleraccount, server, other.
-- paytype: free, onetime, recurring. servertype is the provisioning module.
-- allowqty: 0 one per order, 1 several services, 2 one service of several
-- units (WHMCS 8.12); qty is the stock left.
CREATE TABLE IF NOT EXISTS tblproducts (
	id          INTEGER PRIMARY KEY,
	type        TEXT NOT NULL DEFAULT 'hostingaccount',
	gid         INTEGER NOT NULL REFERENCES tblproductgroups(id),
	name        TEXT NOT NULL,
	description TEXT NOT NULL DEFAULT '',
	hidden      INTEGER NOT NULL DEFAULT 0,
	paytype     TEXT NOT NULL DEFAULT 'recurring',
	servertype  TEXT NOT NULL DEFAULT '',
	sortorder   INTEGER NOT NULL DEFAULT 0,
	allowqty    INTEGER NOT NULL DEFAULT 0,
	qty         INTEGER NOT NULL DEFAULT 0
);

-- Prices per currency and cycle of products (type 'product', relid = product
-- id), addons ('addon', relid = addon id) and config option choices
-- ('configoptions', relid = tblproductconfigoptionssub.id). -1.00 disables a
-- cycle.
CREATE TABLE IF NOT EXISTS tblpricing (
	id           INTEGER PRIMARY KEY,
	type         TEXT NOT NULL,
	currency     INTEGER NOT NULL REFERENCES tblcurrencies(id),
	relid        INTEGER NOT NULL,
	msetupfee    REAL NOT NULL DEFAULT 0,
	qsetupfee    REAL NOT NULL DEFAULT 0,
	ssetupfee    REAL NOT NULL DEFAULT 0,
	asetupfee    REAL NOT NULL DEFAULT 0,
	bsetupfee    REAL NOT NULL DEFAULT 0,
	tsetupfee    REAL NOT NULL DEFAULT 0,
	monthly      REAL NOT NULL DEFAULT -1,
	quarterly    REAL NOT NULL DEFAULT -1,
	semiannually REAL NOT NULL DEFAULT -1,
	annually     REAL NOT NULL DEFAULT -1,
	biennially   REAL NOT NULL DEFAULT -1,
	triennially  REAL NOT NULL DEFAULT -1,
	UNIQUE (type, currency, relid)
);

CREATE TABLE IF NOT EXISTS tblorders (
	id            INTEGER PRIMARY KEY,
	ordernum      TEXT NOT NULL DEFAULT '',
	userid        INTEGER NOT NULL REFERENCES tblclients(id),
	date          TEXT NOT NULL,
	amount        REAL NOT NULL DEFAULT 0,
	paymentmethod TEXT NOT NULL DEFAULT '',
	invoiceid     INTEGER NOT NULL DEFAULT 0,
	status        TEXT NOT NULL DEFAULT 'Pending',
	notes         TEXT NOT NULL DEFAULT ''
);

-- Services (WHMCS: tblhosting). domainstatus is the service status.
CREATE TABLE IF NOT EXISTS tblhosting (
	id                  INTEGER PRIMARY KEY,
	userid              INTEGER NOT NULL REFERENCES tblclients(id),
	orderid             INTEGER NOT NULL DEFAULT 0,
	packageid           INTEGER NOT NULL REFERENCES tblproducts(id),
	server              INTEGER NOT NULL DEFAULT 0,
	regdate             TEXT NOT NULL DEFAULT '0000-00-00',
	domain              TEXT NOT NULL DEFAULT '',
	paymentmethod       TEXT NOT NULL DEFAULT '',
	qty                 INTEGER NOT NULL DEFAULT 1,
	firstpaymentamount  REAL NOT NULL DEFAULT 0,
	amount              REAL NOT NULL DEFAULT 0,
	billingcycle        TEXT NOT NULL DEFAULT 'Monthly',
	nextduedate         TEXT NOT NULL DEFAULT '0000-00-00',
	nextinvoicedate     TEXT NOT NULL DEFAULT '0000-00-00',
	termination_date    TEXT NOT NULL DEFAULT '0000-00-00',
	domainstatus        TEXT NOT NULL DEFAULT 'Pending',
	username            TEXT NOT NULL DEFAULT '',
	password            TEXT NOT NULL DEFAULT '',
	notes               TEXT NOT NULL DEFAULT '',
	subscriptionid      TEXT NOT NULL DEFAULT '',
	promoid             INTEGER NOT NULL DEFAULT 0,
	suspendreason       TEXT NOT NULL DEFAULT '',
	overideautosuspend  TEXT NOT NULL DEFAULT '',
	overidesuspenduntil TEXT NOT NULL DEFAULT '0000-00-00',
	dedicatedip         TEXT NOT NULL DEFAULT '',
	assignedips         TEXT NOT NULL DEFAULT '',
	ns1                 TEXT NOT NULL DEFAULT '',
	ns2                 TEXT NOT NULL DEFAULT '',
	diskusage           INTEGER NOT NULL DEFAULT 0,
	disklimit           INTEGER NOT NULL DEFAULT 0,
	bwusage             INTEGER NOT NULL DEFAULT 0,
	bwlimit             INTEGER NOT NULL DEFAULT 0,
	lastupdate          TEXT NOT NULL DEFAULT '0000-00-00 00:00:00'
);
CREATE INDEX IF NOT EXISTS tblhosting_userid ON tblhosting(userid);

-- Custom fields of products (type 'product', relid = product id) and their
-- values per service (relid = service id).
CREATE TABLE IF NOT EXISTS tblcustomfields (
	id          INTEGER PRIMARY KEY,
	type        TEXT NOT NULL DEFAULT 'product',
	relid       INTEGER NOT NULL,
	fieldname   TEXT NOT NULL,
	fieldtype   TEXT NOT NULL DEFAULT 'text',
	description TEXT NOT NULL DEFAULT '',
	required    TEXT NOT NULL DEFAULT '',
	adminonly   TEXT NOT NULL DEFAULT '',
	sortorder   INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS tblcustomfieldsvalues (
	fieldid INTEGER NOT NULL REFERENCES tblcustomfields(id),
	relid   INTEGER NOT NULL,
	value   TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (fieldid, relid)
);

-- Configurable options: groups linked to products, options (optiontype 1
-- dropdown, 2 radio, 3 yes/no, 4 quantity), their choices ("sub" options,
-- priced in tblpricing) and each service's selections.
CREATE TABLE IF NOT EXISTS tblproductconfiggroups (
	id          INTEGER PRIMARY KEY,
	name        TEXT NOT NULL,
	description TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS tblproductconfiglinks (
	gid INTEGER NOT NULL REFERENCES tblproductconfiggroups(id),
	pid INTEGER NOT NULL REFERENCES tblproducts(id),
	PRIMARY KEY (gid, pid)
);
CREATE TABLE IF NOT EXISTS tblproductconfigoptions (
	id         INTEGER PRIMARY KEY,
	gid        INTEGER NOT NULL REFERENCES tblproductconfiggroups(id),
	optionname TEXT NOT NULL,
	optiontype INTEGER NOT NULL,
	qtyminimum INTEGER NOT NULL DEFAULT 0,
	qtymaximum INTEGER NOT NULL DEFAULT 0,
	sortorder  INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS tblproductconfigoptionssub (
	id         INTEGER PRIMARY KEY,
	configid   INTEGER NOT NULL REFERENCES tblproductconfigoptions(id),
	optionname TEXT NOT NULL,
	sortorder  INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS tblhostingconfigoptions (
	id       INTEGER PRIMARY KEY,
	relid    INTEGER NOT NULL REFERENCES tblhosting(id),
	configid INTEGER NOT NULL REFERENCES tblproductconfigoptions(id),
	optionid INTEGER NOT NULL DEFAULT 0,
	qty      INTEGER NOT NULL DEFAULT 0,
	UNIQUE (relid, configid)
);

-- Product addons (catalog, priced in tblpricing type 'addon') and the addons
-- attached to client services.
CREATE TABLE IF NOT EXISTS tbladdons (
	id           INTEGER PRIMARY KEY,
	name         TEXT NOT NULL,
	description  TEXT NOT NULL DEFAULT '',
	billingcycle TEXT NOT NULL DEFAULT 'recurring',
	tax          INTEGER NOT NULL DEFAULT 0,
	showorder    INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS tblhostingaddons (
	id               INTEGER PRIMARY KEY,
	orderid          INTEGER NOT NULL DEFAULT 0,
	hostingid        INTEGER NOT NULL REFERENCES tblhosting(id),
	addonid          INTEGER NOT NULL DEFAULT 0,
	userid           INTEGER NOT NULL REFERENCES tblclients(id),
	name             TEXT NOT NULL DEFAULT '',
	setupfee         REAL NOT NULL DEFAULT 0,
	recurring        REAL NOT NULL DEFAULT 0,
	billingcycle     TEXT NOT NULL DEFAULT 'Monthly',
	tax              TEXT NOT NULL DEFAULT '',
	status           TEXT NOT NULL DEFAULT 'Pending',
	regdate          TEXT NOT NULL DEFAULT '0000-00-00',
	nextduedate      TEXT NOT NULL DEFAULT '0000-00-00',
	nextinvoicedate  TEXT NOT NULL DEFAULT '0000-00-00',
	termination_date TEXT NOT NULL DEFAULT '0000-00-00',
	paymentmethod    TEXT NOT NULL DEFAULT '',
	notes            TEXT NOT NULL DEFAULT '',
	qty              INTEGER NOT NULL DEFAULT 1
);

-- Promotions usable on upgrades (type 'Percentage' or 'Fixed Amount').
CREATE TABLE IF NOT EXISTS tblpromotions (
	id       INTEGER PRIMARY KEY,
	code     TEXT NOT NULL UNIQUE,
	type     TEXT NOT NULL,
	value    REAL NOT NULL,
	upgrades INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE IF NOT EXISTS tblinvoices (
	id            INTEGER PRIMARY KEY,
	userid        INTEGER NOT NULL REFERENCES tblclients(id),
	invoicenum    TEXT NOT NULL DEFAULT '',
	date          TEXT NOT NULL,
	duedate       TEXT NOT NULL,
	datepaid      TEXT NOT NULL DEFAULT '0000-00-00 00:00:00',
	subtotal      REAL NOT NULL DEFAULT 0,
	total         REAL NOT NULL DEFAULT 0,
	status        TEXT NOT NULL DEFAULT 'Unpaid',
	paymentmethod TEXT NOT NULL DEFAULT '',
	notes         TEXT NOT NULL DEFAULT ''
);
-- type 'Upgrade' items have relid = tblupgrades.id.
CREATE TABLE IF NOT EXISTS tblinvoiceitems (
	id            INTEGER PRIMARY KEY,
	invoiceid     INTEGER NOT NULL REFERENCES tblinvoices(id),
	userid        INTEGER NOT NULL,
	type          TEXT NOT NULL DEFAULT '',
	relid         INTEGER NOT NULL DEFAULT 0,
	description   TEXT NOT NULL DEFAULT '',
	amount        REAL NOT NULL DEFAULT 0,
	taxed         INTEGER NOT NULL DEFAULT 0,
	duedate       TEXT NOT NULL DEFAULT '0000-00-00',
	paymentmethod TEXT NOT NULL DEFAULT ''
);

-- Transactions (payments applied to invoices).
CREATE TABLE IF NOT EXISTS tblaccounts (
	id          INTEGER PRIMARY KEY,
	userid      INTEGER NOT NULL,
	gateway     TEXT NOT NULL DEFAULT '',
	date        TEXT NOT NULL,
	description TEXT NOT NULL DEFAULT '',
	amountin    REAL NOT NULL DEFAULT 0,
	fees        REAL NOT NULL DEFAULT 0,
	transid     TEXT NOT NULL DEFAULT '',
	invoiceid   INTEGER NOT NULL DEFAULT 0
);

-- Upgrades: type 'package' (originalvalue/newvalue = product ids, newcycle =
-- WHMCS cycle name) or 'configoptions' (originalvalue/newvalue =
-- "configid=>value" lists). status 'Pending' until paid (or applied at once
-- when nothing is due), then 'Completed'.
CREATE TABLE IF NOT EXISTS tblupgrades (
	id                   INTEGER PRIMARY KEY,
	userid               INTEGER NOT NULL,
	orderid              INTEGER NOT NULL,
	type                 TEXT NOT NULL,
	date                 TEXT NOT NULL,
	relid                INTEGER NOT NULL REFERENCES tblhosting(id),
	originalvalue        TEXT NOT NULL DEFAULT '',
	newvalue             TEXT NOT NULL DEFAULT '',
	newcycle             TEXT NOT NULL DEFAULT '',
	amount               REAL NOT NULL DEFAULT 0,
	days_remaining       INTEGER NOT NULL DEFAULT 0,
	total_days_in_cycle  INTEGER NOT NULL DEFAULT 0,
	new_recurring_amount REAL NOT NULL DEFAULT 0,
	recurringchange      REAL NOT NULL DEFAULT 0,
	status               TEXT NOT NULL DEFAULT 'Pending',
	paid                 TEXT NOT NULL DEFAULT 'N'
);
`

// addedColumns are the columns added to the schema after the sandbox first
// kept databases in files. CREATE TABLE IF NOT EXISTS leaves the tables of an
// older file as they are, so Open adds these to them.
var addedColumns = []struct{ table, column, decl string }{
	{"tblproducts", "allowqty", "INTEGER NOT NULL DEFAULT 0"},
	{"tblproducts", "qty", "INTEGER NOT NULL DEFAULT 0"},
	{"tblhostingaddons", "qty", "INTEGER NOT NULL DEFAULT 1"},
}

// addColumns adds the addedColumns a database made by an older sandbox lacks.
func addColumns(ctx context.Context, tx *sql.Tx) error {
	for _, c := range addedColumns {
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM pragma_table_info(?) WHERE name = ?", c.table, c.column).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			if _, err := tx.ExecContext(ctx, "ALTER TABLE "+c.table+" ADD COLUMN "+c.column+" "+c.decl); err != nil {
				return fmt.Errorf("add %s.%s: %w", c.table, c.column, err)
			}
		}
	}
	return nil
}
