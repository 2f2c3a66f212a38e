package sandbox

import (
	"database/sql"
	"errors"
	"strings"
	"time"
)

// cancelledInvoiceMessage is WHMCS's documented refusal of a payment to a
// Cancelled invoice.
const cancelledInvoiceMessage = "It is not possible to add a payment to an invoice that is Cancelled"

// addInvoicePayment implements AddInvoicePayment: records a payment
// transaction against an invoice, marks an Unpaid invoice Paid once its
// balance is covered and then applies the upgrades the invoice was for.
//
// WHMCS documents two errors, "Invoice ID Not Found" and
// cancelledInvoiceMessage, and the sandbox answers no other. Choices where
// WHMCS's docs are silent (doc.go lists each with its evidence):
//   - transid and gateway are stored as given, even empty or unknown.
//   - amount defaults to the invoice's balance; amount and fees are read by
//     their leading number, negative ones kept.
//   - date is "Y-m-d H:i:s" or "Y-m-d"; anything else, or nothing, is now.
//   - A payment to an invoice in any other status than Unpaid or Cancelled
//     (Paid, say) is recorded and changes nothing else.
//   - noemail is ignored (the sandbox sends no email).
//   - Paying an invoice applies its pending upgrades; other invoice items
//     (e.g. a new service's first invoice) only get the invoice marked Paid.
func addInvoicePayment(c *call) (object, error) {
	invoiceID := c.p.id("invoiceid")
	var userid int64
	var total float64
	var status string
	err := c.tx.QueryRowContext(c.ctx, "SELECT userid, total, status FROM tblinvoices WHERE id = ?", invoiceID).
		Scan(&userid, &total, &status)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apiError("Invoice ID Not Found")
	} else if err != nil {
		return nil, err
	}
	if status == "Cancelled" {
		return nil, apiError(cancelledInvoiceMessage)
	}
	date := c.now.Format(dateTimeLayout)
	d := strings.TrimSpace(c.p.get("date"))
	if t, err := time.Parse(dateTimeLayout, d); err == nil {
		date = t.Format(dateTimeLayout)
	} else if t, ok := parseDate(d); ok {
		date = t.Format(dateTimeLayout)
	}
	var paid float64
	if err := c.tx.QueryRowContext(c.ctx, "SELECT COALESCE(SUM(amountin), 0) FROM tblaccounts WHERE invoiceid = ?", invoiceID).
		Scan(&paid); err != nil {
		return nil, err
	}
	balance := toCents(total) - toCents(paid)
	amount, amountGiven := c.p.optAmount("amount")
	if !amountGiven {
		amount = balance
	}
	fees, _ := c.p.optAmount("fees")
	if _, err := c.tx.ExecContext(c.ctx, `INSERT INTO tblaccounts (userid, gateway, date, description, amountin, fees, transid, invoiceid)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, userid, c.p.get("gateway"), date, "Invoice Payment", amount.float(), fees.float(),
		c.p.get("transid"), invoiceID); err != nil {
		return nil, err
	}
	if status == "Unpaid" && amount >= balance {
		if _, err := c.tx.ExecContext(c.ctx, "UPDATE tblinvoices SET status = 'Paid', datepaid = ? WHERE id = ?", date, invoiceID); err != nil {
			return nil, err
		}
		if err := c.applyInvoiceUpgrades(int64(invoiceID)); err != nil {
			return nil, err
		}
	}
	c.wrote = true
	return successReply(), nil
}

// applyInvoiceUpgrades applies the pending upgrades billed on an invoice.
func (c *call) applyInvoiceUpgrades(invoiceID int64) error {
	rows, err := c.tx.QueryContext(c.ctx, `SELECT u.id FROM tblinvoiceitems ii
		JOIN tblupgrades u ON u.id = ii.relid
		WHERE ii.invoiceid = ? AND ii.type = 'Upgrade' AND u.status = 'Pending' ORDER BY u.id`, invoiceID)
	if err != nil {
		return err
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, id := range ids {
		if err := c.applyUpgrade(id); err != nil {
			return err
		}
	}
	return nil
}
