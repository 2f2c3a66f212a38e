package main

import (
	"context"
	"fmt"
	"time"

	"github.com/whmcs-mcp/whmcs-mcp/whmcs/sandbox"
)

// fixtureClient owns the services added for figure 6.
const fixtureClient = 5

// benchNow is the sandbox clock of every run, so that replies (due dates,
// prorated prices) are the same from run to run.
var benchNow = time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)

// makeFixture creates a sandbox database at path: the demo data plus client
// 5 with n services. Each is a copy of one of the demo services 3 to 12 with
// its custom field values and configurable options, under its own domain,
// so that a page of them looks like a real client's services. Only figure 6
// uses it, through a second sandbox process started with --db path.
func makeFixture(path string, n int) error {
	sb, err := sandbox.Open(sandbox.Options{DBPath: path, Now: sandbox.FixedClock(benchNow)})
	if err != nil {
		return err
	}
	defer sb.Close()
	ctx := context.Background()
	tx, err := sb.DB().BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `INSERT INTO tblclients (id, firstname, lastname, companyname, email, datecreated)
		VALUES (?, 'Bench', 'Fixture', 'Many Sites Ltd', 'ops@manysites.example', '2024-01-15')`, fixtureClient); err != nil {
		return err
	}
	const columns = `orderid, packageid, server, regdate, paymentmethod, qty, firstpaymentamount, amount,
		billingcycle, nextduedate, nextinvoicedate, termination_date, domainstatus, username, password, notes,
		subscriptionid, promoid, suspendreason, overideautosuspend, overidesuspenduntil, dedicatedip, assignedips,
		ns1, ns2, diskusage, disklimit, bwusage, bwlimit, lastupdate`
	for i := range n {
		src := 3 + i%10
		res, err := tx.ExecContext(ctx, `INSERT INTO tblhosting (userid, domain, `+columns+`)
			SELECT ?, ? || domain, `+columns+` FROM tblhosting WHERE id = ?`, fixtureClient, fmt.Sprintf("s%03d.", i+1), src)
		if err != nil {
			return err
		}
		id, err := res.LastInsertId()
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO tblcustomfieldsvalues (fieldid, relid, value)
			SELECT fieldid, ?, value FROM tblcustomfieldsvalues WHERE relid = ?`, id, src); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO tblhostingconfigoptions (relid, configid, optionid, qty)
			SELECT ?, configid, optionid, qty FROM tblhostingconfigoptions WHERE relid = ?`, id, src); err != nil {
			return err
		}
	}
	return tx.Commit()
}
