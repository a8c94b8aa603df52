"""The invoice lifecycle: ledger, payments, dunning, sending, links, messages, bookkeeping."""
