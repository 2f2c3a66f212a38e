package sandbox

import (
	"database/sql"
	"errors"
	"strings"
	"time"
)

// addInvoicePayment implements AddInvoicePayment: records a payment
// transaction against an invoice, marks the invoice Paid once its balance is
// covered and then applies the upgrades the invoice was for.
//
// Choices where WHMCS's docs are silent:
//   - transid and gateway are required (the docs mark them so): a missing
//     transid is "Transaction ID is required"; gateway must be a configured
//     payment method ("Invalid Payment Method. Valid options include ...").
//   - amount defaults to the invoice's balance; amount and fees must be
//     non-negative amounts.
//   - date is "Y-m-d H:i:s" or "Y-m-d" ("Invalid Date Format ..." otherwise)
//     and defaults to now.
//   - Only Unpaid invoices take payments ("Invoice is not Unpaid (status:
//     Paid)").
//   - noemail is accepted and ignored (the sandbox sends no email).
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
	transid := strings.TrimSpace(c.p.get("transid"))
	if transid == "" {
		return nil, apiError("Transaction ID is required")
	}
	gw := c.p.get("gateway")
	if err := c.checkPaymentMethod(gw); err != nil {
		return nil, err
	}
	amount, amountGiven, err := c.p.optAmount("amount")
	if err != nil {
		return nil, err
	}
	fees, _, err := c.p.optAmount("fees")
	if err != nil {
		return nil, err
	}
	date := c.now.Format(dateTimeLayout)
	if c.p.has("date") {
		d := strings.TrimSpace(c.p.get("date"))
		if t, err := time.Parse(dateTimeLayout, d); err == nil {
			date = t.Format(dateTimeLayout)
		} else if t, ok := parseDate(d); ok {
			date = t.Format(dateTimeLayout)
		} else {
			return nil, apiError("Invalid Date Format. date must be a valid date in the format Y-m-d H:i:s")
		}
	}
	if _, _, err := c.p.optBool("noemail"); err != nil {
		return nil, err
	}
	if status != "Unpaid" {
		return nil, apiError("Invoice is not Unpaid (status: " + status + ")")
	}

	var paid float64
	if err := c.tx.QueryRowContext(c.ctx, "SELECT COALESCE(SUM(amountin), 0) FROM tblaccounts WHERE invoiceid = ?", invoiceID).
		Scan(&paid); err != nil {
		return nil, err
	}
	balance := toCents(total) - toCents(paid)
	if !amountGiven {
		amount = balance
	}
	if _, err := c.tx.ExecContext(c.ctx, `INSERT INTO tblaccounts (userid, gateway, date, description, amountin, fees, transid, invoiceid)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, userid, gw, date, "Invoice Payment", amount.float(), fees.float(), transid, invoiceID); err != nil {
		return nil, err
	}
	if amount >= balance {
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
