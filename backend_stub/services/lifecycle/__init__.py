"""The invoice lifecycle after the bill run: the ledger (balances and events), payments, dunning, sending,
an invoice's own link, messages, bookkeeping (SIE), the timeline, event documents, the operator's lifecycle
configuration and the test payment gateway."""
