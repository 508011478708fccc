"""Money: the grant's budget, cost estimates and rates, travel invoices and the coordinator's reports."""
