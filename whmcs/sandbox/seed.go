package sandbox

import (
	"context"
	"database/sql"
	"fmt"
	"hash/fnv"
	"strings"
	"time"
)

// seed fills an empty database with the demo data.
//
// Client 1 (John Doe) reproduces the GetClientsProducts example of WHMCS's API
// reference exactly, with its fixed 2015-2017 dates. Clients 2 to 4 have dates
// relative to today (the sandbox clock at seed time), so upgrades quote
// sensible prorated prices under a real clock and reproducible ones under a
// fixed clock. Service 3 (client 2, "Pro", Monthly 29.95, due in 13 days)
// downgraded to product 2 ("Lite", Monthly 9.95) reproduces the UpgradeProduct
// example of the reference: 13 of 30 days, price $-8.67 USD.
//
// Overview:
//
//	products  1 Starter, 2 Lite, 3 Plus, 4 Pro     (group 1 Shared Hosting, cPanel)
//	          5 VPS Small, 6 VPS Medium, 7 VPS Large (group 2 VPS)
//	          8 Website Migration                   (group 3 Services, one time)
//	services  1-2 client 1; 3-5 client 2; 6-8 client 3; 9-12 client 4
//	addons    1 SSL Certificate, 2 SpamExperts Email Filtering, 3 Dedicated IP,
//	          4 Priority Support (one time); client addons 1-10
//	gateways  paypal (PayPal), authorize (Credit Card)
//	promos    UPGRADE10 (10% off upgrades), WELCOME5 (not for upgrades)
func seed(ctx context.Context, tx *sql.Tx, today time.Time) error {
	day := func(offset int) string { return today.AddDate(0, 0, offset).Format(dateLayout) }
	var rows []seedRow
	add := func(table string, r object) { rows = append(rows, seedRow{table, r}) }

	add("tblcurrencies", object{{"id", 1}, {"code", "USD"}, {"prefix", "$"}, {"suffix", " USD"}, {"isdefault", 1}})

	add("tblpaymentgateways", object{{"gateway", "paypal"}, {"name", "PayPal"}, {"sortorder", 1}})
	add("tblpaymentgateways", object{{"gateway", "authorize"}, {"name", "Credit Card"}, {"sortorder", 2}})

	for _, c := range []object{
		{{"id", 1}, {"firstname", "John"}, {"lastname", "Doe"}, {"email", "john.doe@example.com"}, {"datecreated", "2015-01-01"}},
		{{"id", 2}, {"firstname", "Jane"}, {"lastname", "Smith"}, {"companyname", "Smith Web Design"}, {"email", "jane@smithwebdesign.example"}, {"datecreated", day(-190)}},
		{{"id", 3}, {"firstname", "Carlos"}, {"lastname", "Ruiz"}, {"email", "carlos.ruiz@example.org"}, {"datecreated", day(-400)}},
		{{"id", 4}, {"firstname", "Aiko"}, {"lastname", "Tanaka"}, {"companyname", "Tanaka Labs"}, {"email", "aiko@tanakalabs.example"}, {"datecreated", day(-100)}},
	} {
		add("tblclients", c)
	}

	add("tblservers", object{{"id", 1}, {"name", "Saturn"}, {"ipaddress", "1.2.3.4"}, {"hostname", "saturn.example.com"}, {"type", "cpanel"}})
	add("tblservers", object{{"id", 2}, {"name", "Pluto"}, {"ipaddress", "2.3.4.5"}, {"hostname", "pluto.example.com"}, {"type", "cpanel"}})
	add("tblservers", object{{"id", 3}, {"name", "Neptune"}, {"ipaddress", "3.4.5.6"}, {"hostname", "neptune.example.com"}, {"type", "autorelease"}})

	add("tblproductgroups", object{{"id", 1}, {"name", "Shared Hosting"}, {"sortorder", 1}})
	add("tblproductgroups", object{{"id", 2}, {"name", "VPS"}, {"sortorder", 2}})
	add("tblproductgroups", object{{"id", 3}, {"name", "Services"}, {"sortorder", 3}})

	// Products and their USD prices: setup fees, then monthly .. triennially.
	type product struct {
		id, gid         int
		typ, name, desc string
		paytype, module string
		hidden          int
		setup, price    [6]float64
	}
	no := -1.0
	products := []product{
		{1, 1, "hostingaccount", "Starter", "1 website, 10 GB SSD, free SSL", "recurring", "cpanel", 0,
			[6]float64{}, [6]float64{12.95, 36.95, 69.95, 129.50, 239.00, no}},
		{2, 1, "hostingaccount", "Lite", "1 website, 5 GB SSD", "recurring", "cpanel", 0,
			[6]float64{}, [6]float64{9.95, 28.95, 55.95, 99.50, 189.00, 269.00}},
		{3, 1, "hostingaccount", "Plus", "10 websites, 50 GB SSD, free SSL", "recurring", "cpanel", 0,
			[6]float64{}, [6]float64{24.95, 71.95, 139.95, 269.50, 499.00, 699.00}},
		{4, 1, "hostingaccount", "Pro", "Unlimited websites, 100 GB NVMe, daily backups", "recurring", "cpanel", 0,
			[6]float64{}, [6]float64{29.95, 86.95, 167.95, 323.40, no, no}},
		{5, 2, "server", "VPS Small", "1 vCPU, 1 GB RAM, 25 GB NVMe", "recurring", "autorelease", 0,
			[6]float64{10.00, 10.00, 0, 0, 0, 0}, [6]float64{19.99, 57.00, 110.00, 215.88, no, no}},
		{6, 2, "server", "VPS Medium", "2 vCPU, 4 GB RAM, 80 GB NVMe", "recurring", "autorelease", 0,
			[6]float64{10.00, 10.00, 0, 0, 0, 0}, [6]float64{39.99, 114.00, 222.00, 431.89, 815.00, no}},
		{7, 2, "server", "VPS Large", "4 vCPU, 8 GB RAM, 160 GB NVMe", "recurring", "autorelease", 0,
			[6]float64{25.00, 0, 0, 0, 0, 0}, [6]float64{79.99, 228.00, 450.00, 863.89, 1630.00, 2400.00}},
		{8, 3, "other", "Website Migration", "We move your site for you", "onetime", "", 0,
			[6]float64{}, [6]float64{49.00, no, no, no, no, no}},
	}
	pricingID := 0
	pricing := func(typ string, relid int, setup, price [6]float64) {
		pricingID++
		r := object{{"id", pricingID}, {"type", typ}, {"currency", 1}, {"relid", relid}}
		for i, c := range recurringCycles {
			r.set(c.SetupKey, setup[i])
		}
		for i, c := range recurringCycles {
			r.set(c.Key, price[i])
		}
		add("tblpricing", r)
	}
	for _, p := range products {
		r := object{{"id", p.id}, {"type", p.typ}, {"gid", p.gid}, {"name", p.name},
			{"description", p.desc}, {"hidden", p.hidden}, {"paytype", p.paytype}, {"servertype", p.module}, {"sortorder", p.id}}
		if p.paytype == "onetime" {
			r.set("allowqty", 1) // a migration per site: several at once
		}
		add("tblproducts", r)
		pricing("product", p.id, p.setup, p.price)
	}

	// Custom fields. Starter and Plus have none (as the reference example shows).
	for _, f := range []object{
		{{"id", 1}, {"relid", 4}, {"fieldname", "How did you hear about us?"}, {"fieldtype", "dropdown"}, {"description", "Google, Yahoo, a friend, ..."}},
		{{"id", 2}, {"relid", 5}, {"fieldname", "Hostname"}, {"description", "Fully qualified hostname of the VPS"}, {"required", "on"}},
		{{"id", 3}, {"relid", 6}, {"fieldname", "Hostname"}, {"description", "Fully qualified hostname of the VPS"}, {"required", "on"}},
		{{"id", 4}, {"relid", 7}, {"fieldname", "Hostname"}, {"description", "Fully qualified hostname of the VPS"}, {"required", "on"}},
		{{"id", 5}, {"relid", 7}, {"fieldname", "Root SSH Public Key"}, {"fieldtype", "textarea"}, {"description", "Installed for root at provisioning"}},
	} {
		f.set("type", "product")
		f.set("sortorder", f.get("id"))
		add("tblcustomfields", f)
	}

	// Configurable options: group 1 on Plus (the reference example's one
	// option), group 2 on the VPS products.
	add("tblproductconfiggroups", object{{"id", 1}, {"name", "Plus Options"}})
	add("tblproductconfiggroups", object{{"id", 2}, {"name", "VPS Options"}})
	add("tblproductconfiglinks", object{{"gid", 1}, {"pid", 3}})
	for _, pid := range []int{5, 6, 7} {
		add("tblproductconfiglinks", object{{"gid", 2}, {"pid", pid}})
	}
	for _, o := range []object{
		{{"id", 1}, {"gid", 1}, {"optionname", "Sample Config Option"}, {"optiontype", optDropdown}},
		{{"id", 2}, {"gid", 2}, {"optionname", "Memory"}, {"optiontype", optDropdown}},
		{{"id", 3}, {"gid", 2}, {"optionname", "Extra IPv4 Addresses"}, {"optiontype", optQuantity}, {"qtyminimum", 0}, {"qtymaximum", 8}},
		{{"id", 4}, {"gid", 2}, {"optionname", "Daily Backups"}, {"optiontype", optYesNo}},
		{{"id", 5}, {"gid", 2}, {"optionname", "Operating System"}, {"optiontype", optRadio}},
	} {
		o.set("sortorder", o.get("id"))
		add("tblproductconfigoptions", o)
	}
	free := [6]float64{}
	step := func(m float64) [6]float64 { return [6]float64{m, 3 * m, 6 * m, 12 * m, 24 * m, 36 * m} }
	for _, sub := range []struct {
		id, configid int
		name         string
		price        [6]float64
	}{
		{1, 1, "Selected option value", free},
		{2, 1, "Premium option value", step(5)},
		{3, 2, "1 GB", free},
		{4, 2, "2 GB", step(5)},
		{5, 2, "4 GB", step(15)},
		{6, 3, "IPv4 Address", step(2)},
		{7, 4, "Enabled", step(4)},
		{8, 5, "Ubuntu 24.04", free},
		{9, 5, "Debian 12", free},
		{10, 5, "AlmaLinux 9", free},
	} {
		add("tblproductconfigoptionssub", object{{"id", sub.id}, {"configid", sub.configid}, {"optionname", sub.name}, {"sortorder", sub.id}})
		pricing("configoptions", sub.id, free, sub.price)
	}

	// Orders. Order 2 has no order number, so service 2 has no
	// "ordernumber" key in GetClientsProducts, as in the reference example.
	order := func(id int64, userid int, date string, amount float64, gateway, status string) {
		num := orderNumber(id)
		if id == 1 {
			num = "456789"
		} else if id == 2 {
			num = ""
		}
		add("tblorders", object{{"id", id}, {"ordernum", num}, {"userid", userid}, {"date", date + " 10:00:00"},
			{"amount", amount}, {"paymentmethod", gateway}, {"status", status}})
	}
	order(1, 1, "2015-01-01", 12.95, "authorize", "Active")
	order(2, 1, "2015-05-20", 24.95, "paypal", "Active")
	order(3, 2, day(-47), 29.95, "paypal", "Active")
	order(4, 2, day(-165), 628.89, "authorize", "Active")
	order(5, 2, day(-190), 36.95, "paypal", "Active")
	order(6, 3, day(-275), 329.50, "authorize", "Active")
	order(7, 3, day(-25), 29.99, "paypal", "Active")
	order(8, 3, day(-400), 9.95, "paypal", "Cancelled")
	order(9, 4, day(-45), 309.00, "authorize", "Active")
	order(10, 4, day(-100), 12.95, "paypal", "Active")
	order(11, 4, day(-44), 49.00, "paypal", "Active")
	order(12, 4, day(0), 323.40, "paypal", "Pending")

	// Services (tblhosting).
	for _, h := range []object{
		{{"id", 1}, {"userid", 1}, {"orderid", 1}, {"packageid", 1}, {"server", 1}, {"regdate", "2015-01-01"},
			{"domain", "demodomain.com"}, {"paymentmethod", "authorize"}, {"qty", 1}, {"firstpaymentamount", 12.95},
			{"amount", 12.95}, {"billingcycle", "Monthly"}, {"nextduedate", "2016-11-25"}, {"nextinvoicedate", "2016-11-25"},
			{"termination_date", "2016-12-02"}, {"domainstatus", "Terminated"}, {"username", "demodoma"}, {"password", "xxxxxxxx"}},
		{{"id", 2}, {"userid", 1}, {"orderid", 2}, {"packageid", 3}, {"server", 2}, {"regdate", "2015-05-20"},
			{"domain", "demodomain2.net"}, {"paymentmethod", "paypal"}, {"qty", 2}, {"firstpaymentamount", 24.95},
			{"amount", 24.95}, {"billingcycle", "Monthly"}, {"nextduedate", "2017-01-20"}, {"nextinvoicedate", "2017-01-20"},
			{"domainstatus", "Active"}, {"username", "demodom2"}, {"password", "xxxxxxxx"}},
		{{"id", 3}, {"userid", 2}, {"orderid", 3}, {"packageid", 4}, {"server", 1}, {"regdate", day(-47)},
			{"domain", "smithwebdesign.example"}, {"paymentmethod", "paypal"}, {"firstpaymentamount", 29.95},
			{"amount", 29.95}, {"billingcycle", "Monthly"}, {"nextduedate", day(13)}, {"nextinvoicedate", day(13)},
			{"domainstatus", "Active"}, {"username", "smithweb"}, {"password", "Qx7!pLm2@vRt"}},
		{{"id", 4}, {"userid", 2}, {"orderid", 4}, {"packageid", 6}, {"server", 3}, {"regdate", day(-165)},
			{"domain", "vps1.smithwebdesign.example"}, {"paymentmethod", "authorize"}, {"firstpaymentamount", 587.89},
			{"amount", 587.89}, {"billingcycle", "Annually"}, {"nextduedate", day(200)}, {"nextinvoicedate", day(200)},
			{"domainstatus", "Active"}, {"username", "root"}, {"password", "v9#Kd2!mWq4z"},
			{"dedicatedip", "203.0.113.10"}, {"assignedips", "203.0.113.11\n203.0.113.12"},
			{"ns1", "ns1.smithwebdesign.example"}, {"ns2", "ns2.smithwebdesign.example"},
			{"diskusage", 20480}, {"disklimit", 81920}, {"bwusage", 102400}, {"bwlimit", 2048000},
			{"lastupdate", day(-1) + " 03:00:00"}},
		{{"id", 5}, {"userid", 2}, {"orderid", 5}, {"packageid", 1}, {"server", 1}, {"regdate", day(-190)},
			{"domain", "smithblog.example"}, {"paymentmethod", "paypal"}, {"firstpaymentamount", 36.95},
			{"amount", 36.95}, {"billingcycle", "Quarterly"}, {"nextduedate", day(-10)}, {"nextinvoicedate", day(-10)},
			{"domainstatus", "Suspended"}, {"suspendreason", "Overdue on Payment"}, {"username", "smithblo"}, {"password", "b7Lz!e3Rw0pa"}},
		{{"id", 6}, {"userid", 3}, {"orderid", 6}, {"packageid", 3}, {"server", 2}, {"regdate", day(-275)},
			{"domain", "ruizphoto.example"}, {"paymentmethod", "authorize"}, {"firstpaymentamount", 329.50},
			{"amount", 329.50}, {"billingcycle", "Annually"}, {"nextduedate", day(90)}, {"nextinvoicedate", day(90)},
			{"domainstatus", "Active"}, {"username", "ruizphot"}, {"password", "Ph0t0!ruiz#9"}, {"overideautosuspend", "on"},
			{"overidesuspenduntil", day(30)}, {"notes", "Photographer portfolio; large uploads expected."}},
		{{"id", 7}, {"userid", 3}, {"orderid", 7}, {"packageid", 5}, {"server", 3}, {"regdate", day(-25)},
			{"domain", "dev.ruizphoto.example"}, {"paymentmethod", "paypal"}, {"firstpaymentamount", 29.99},
			{"amount", 19.99}, {"billingcycle", "Monthly"}, {"nextduedate", day(5)}, {"nextinvoicedate", day(5)},
			{"domainstatus", "Active"}, {"username", "root"}, {"password", "Dv!7pQ2s#LmX"}, {"dedicatedip", "203.0.113.20"}},
		{{"id", 8}, {"userid", 3}, {"orderid", 8}, {"packageid", 2}, {"server", 1}, {"regdate", day(-400)},
			{"domain", "oldsite.example"}, {"paymentmethod", "paypal"}, {"firstpaymentamount", 9.95},
			{"amount", 9.95}, {"billingcycle", "Monthly"}, {"nextduedate", day(-35)}, {"nextinvoicedate", day(-35)},
			{"domainstatus", "Cancelled"}, {"username", "oldsitee"}, {"password", "0ld!s1te#Pw"}},
		{{"id", 9}, {"userid", 4}, {"orderid", 9}, {"packageid", 7}, {"server", 3}, {"regdate", day(-45)},
			{"domain", "build.tanakalabs.example"}, {"paymentmethod", "authorize"}, {"firstpaymentamount", 309.00},
			{"amount", 309.00}, {"billingcycle", "Quarterly"}, {"nextduedate", day(45)}, {"nextinvoicedate", day(45)},
			{"domainstatus", "Active"}, {"username", "root"}, {"password", "T4n@ka!L4bs#"}, {"dedicatedip", "203.0.113.30"},
			{"assignedips", "203.0.113.31\n203.0.113.32\n203.0.113.33\n203.0.113.34"}},
		{{"id", 10}, {"userid", 4}, {"orderid", 10}, {"packageid", 1}, {"server", 2}, {"regdate", day(-100)},
			{"domain", "tanakalabs.example"}, {"paymentmethod", "paypal"}, {"firstpaymentamount", 12.95},
			{"amount", 12.95}, {"billingcycle", "Monthly"}, {"nextduedate", day(20)}, {"nextinvoicedate", day(20)},
			{"domainstatus", "Suspended"}, {"suspendreason", "Abuse report: outbound spam"}, {"username", "tanakala"}, {"password", "Sp@m!n0t#me1"}},
		{{"id", 11}, {"userid", 4}, {"orderid", 11}, {"packageid", 8}, {"regdate", day(-44)},
			{"domain", "tanakalabs.example"}, {"paymentmethod", "paypal"}, {"firstpaymentamount", 49.00},
			{"amount", 49.00}, {"billingcycle", "One Time"}, {"domainstatus", "Completed"}},
		{{"id", 12}, {"userid", 4}, {"orderid", 12}, {"packageid", 4}, {"server", 1}, {"regdate", day(0)},
			{"domain", "shop.tanakalabs.example"}, {"paymentmethod", "paypal"}, {"firstpaymentamount", 323.40},
			{"amount", 323.40}, {"billingcycle", "Annually"}, {"nextduedate", day(0)}, {"nextinvoicedate", day(0)},
			{"domainstatus", "Pending"}, {"username", "shoptana"}, {"password", "Sh0p!t4n#ka2"}},
	} {
		add("tblhosting", h)
	}

	for _, v := range []object{
		{{"fieldid", 1}, {"relid", 3}, {"value", "Google"}},
		{{"fieldid", 1}, {"relid", 12}, {"value", "Yahoo"}},
		{{"fieldid", 3}, {"relid", 4}, {"value", "vps1.smithwebdesign.example"}},
		{{"fieldid", 2}, {"relid", 7}, {"value", "dev.ruizphoto.example"}},
		{{"fieldid", 4}, {"relid", 9}, {"value", "build.tanakalabs.example"}},
		{{"fieldid", 5}, {"relid", 9}, {"value", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDemoKeyOnlyForTheSandbox aiko@tanakalabs"}},
	} {
		add("tblcustomfieldsvalues", v)
	}

	// Config option selections: relid (service), configid, optionid, qty.
	for _, sel := range [][4]int{
		{2, 1, 1, 0},
		{4, 2, 4, 0}, {4, 3, 6, 2}, {4, 4, 7, 1}, {4, 5, 8, 0},
		{6, 1, 2, 0},
		{7, 2, 3, 0}, {7, 3, 6, 0}, {7, 4, 7, 0}, {7, 5, 9, 0},
		{9, 2, 5, 0}, {9, 3, 6, 4}, {9, 4, 7, 1}, {9, 5, 10, 0},
	} {
		add("tblhostingconfigoptions", object{{"relid", sel[0]}, {"configid", sel[1]}, {"optionid", sel[2]}, {"qty", sel[3]}})
	}

	// Addon catalog and client addons.
	for _, a := range []struct {
		id           int
		name, desc   string
		billing      string
		setup, price [6]float64
	}{
		{1, "SSL Certificate", "Domain-validated certificate", "recurring", free, [6]float64{4.99, no, no, 49.00, no, no}},
		{2, "SpamExperts Email Filtering", "Incoming spam and virus filtering", "recurring", free, step(2.5)},
		{3, "Dedicated IP", "An IPv4 address of your own", "recurring", [6]float64{5.00, 5.00, 5.00, 5.00, 5.00, 5.00}, [6]float64{3.00, 9.00, 18.00, 36.00, no, no}},
		{4, "Priority Support", "One-off priority handling of a project", "onetime", free, [6]float64{99.00, no, no, no, no, no}},
	} {
		add("tbladdons", object{{"id", a.id}, {"name", a.name}, {"description", a.desc}, {"billingcycle", a.billing}})
		pricing("addon", a.id, a.setup, a.price)
	}
	for _, ha := range []object{
		{{"id", 1}, {"orderid", 2}, {"hostingid", 2}, {"addonid", 1}, {"userid", 1}, {"recurring", 4.99}, {"billingcycle", "Monthly"},
			{"status", "Active"}, {"regdate", "2015-05-20"}, {"nextduedate", "2017-01-20"}, {"nextinvoicedate", "2017-01-20"}, {"paymentmethod", "paypal"}},
		{{"id", 2}, {"orderid", 1}, {"hostingid", 1}, {"addonid", 2}, {"userid", 1}, {"recurring", 2.50}, {"billingcycle", "Monthly"},
			{"status", "Terminated"}, {"regdate", "2015-01-01"}, {"nextduedate", "2016-11-25"}, {"nextinvoicedate", "2016-11-25"},
			{"termination_date", "2016-12-02"}, {"paymentmethod", "authorize"}},
		{{"id", 3}, {"orderid", 3}, {"hostingid", 3}, {"addonid", 2}, {"userid", 2}, {"recurring", 2.50}, {"billingcycle", "Monthly"},
			{"status", "Active"}, {"regdate", day(-47)}, {"nextduedate", day(13)}, {"nextinvoicedate", day(13)}, {"paymentmethod", "paypal"}},
		{{"id", 4}, {"orderid", 4}, {"hostingid", 4}, {"addonid", 3}, {"userid", 2}, {"setupfee", 5.00}, {"recurring", 36.00}, {"billingcycle", "Annually"},
			{"tax", "on"}, {"status", "Active"}, {"regdate", day(-165)}, {"nextduedate", day(200)}, {"nextinvoicedate", day(200)}, {"paymentmethod", "authorize"}},
		{{"id", 5}, {"orderid", 5}, {"hostingid", 5}, {"addonid", 1}, {"userid", 2}, {"recurring", 4.99}, {"billingcycle", "Monthly"},
			{"status", "Suspended"}, {"regdate", day(-190)}, {"nextduedate", day(-10)}, {"nextinvoicedate", day(-10)}, {"paymentmethod", "paypal"}},
		{{"id", 6}, {"orderid", 6}, {"hostingid", 6}, {"addonid", 4}, {"userid", 3}, {"setupfee", 0}, {"recurring", 99.00}, {"billingcycle", "One Time"},
			{"status", "Active"}, {"regdate", day(-275)}, {"paymentmethod", "authorize"}, {"notes", "Portfolio migration from the old host"}},
		{{"id", 7}, {"orderid", 7}, {"hostingid", 7}, {"addonid", 2}, {"userid", 3}, {"recurring", 2.50}, {"billingcycle", "Monthly"},
			{"status", "Pending"}, {"regdate", day(-25)}, {"nextduedate", day(5)}, {"nextinvoicedate", day(5)}, {"paymentmethod", "paypal"}},
		{{"id", 8}, {"orderid", 9}, {"hostingid", 9}, {"addonid", 3}, {"userid", 4}, {"setupfee", 5.00}, {"recurring", 9.00}, {"billingcycle", "Quarterly"},
			{"status", "Cancelled"}, {"regdate", day(-45)}, {"nextduedate", day(45)}, {"nextinvoicedate", day(45)}, {"paymentmethod", "authorize"},
			{"notes", "Customer no longer needs it"}},
		{{"id", 9}, {"orderid", 10}, {"hostingid", 10}, {"addonid", 1}, {"userid", 4}, {"name", "Wildcard SSL"}, {"recurring", 4.99}, {"billingcycle", "Monthly"},
			{"status", "Suspended"}, {"regdate", day(-100)}, {"nextduedate", day(20)}, {"nextinvoicedate", day(20)}, {"paymentmethod", "paypal"}},
		{{"id", 10}, {"orderid", 9}, {"hostingid", 9}, {"addonid", 1}, {"userid", 4}, {"recurring", 49.00}, {"billingcycle", "Annually"},
			{"status", "Active"}, {"regdate", day(-45)}, {"nextduedate", day(320)}, {"nextinvoicedate", day(320)}, {"paymentmethod", "authorize"}},
	} {
		add("tblhostingaddons", ha)
	}

	add("tblpromotions", object{{"id", 1}, {"code", "UPGRADE10"}, {"type", "Percentage"}, {"value", 10}, {"upgrades", 1}})
	add("tblpromotions", object{{"id", 2}, {"code", "WELCOME5"}, {"type", "Fixed Amount"}, {"value", 5}, {"upgrades", 0}})

	// The pending order of service 12 waits for its invoice.
	add("tblinvoices", object{{"id", 1}, {"userid", 4}, {"date", day(0)}, {"duedate", day(0)}, {"subtotal", 323.40},
		{"total", 323.40}, {"status", "Unpaid"}, {"paymentmethod", "paypal"}})
	add("tblinvoiceitems", object{{"invoiceid", 1}, {"userid", 4}, {"type", "Hosting"}, {"relid", 12},
		{"description", "Pro - shop.tanakalabs.example (" + day(0) + " - " + day(365-1) + ")"}, {"amount", 323.40},
		{"duedate", day(0)}, {"paymentmethod", "paypal"}})
	for _, r := range rows {
		if err := insert(ctx, tx, r.table, r.row); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, "UPDATE tblorders SET invoiceid = 1 WHERE id = 12"); err != nil {
		return err
	}
	return nil
}

type seedRow struct {
	table string
	row   object
}

// insert adds one row whose columns are r's keys.
func insert(ctx context.Context, tx *sql.Tx, table string, r object) error {
	cols := make([]string, len(r))
	marks := make([]string, len(r))
	args := make([]any, len(r))
	for i, f := range r {
		cols[i], marks[i], args[i] = f.key, "?", f.val
	}
	q := fmt.Sprintf("INSERT INTO %s (%s) VALUES (%s)", table, strings.Join(cols, ", "), strings.Join(marks, ", "))
	if _, err := tx.ExecContext(ctx, q, args...); err != nil {
		return fmt.Errorf("insert into %s: %w", table, err)
	}
	return nil
}

// orderNumber derives a WHMCS-style 10-digit order number from the order id.
// It is deterministic, so replies are reproducible under a fixed clock.
func orderNumber(orderID int64) string {
	h := fnv.New64a()
	fmt.Fprintf(h, "whmcs-sandbox-order-%d", orderID)
	return fmt.Sprintf("%d", 1_000_000_000+h.Sum64()%9_000_000_000)
}
