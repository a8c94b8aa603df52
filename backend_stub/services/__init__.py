"""The core's services, one package per business area; each function takes the engine (or a connection),
the catalogue and the terms it needs, and works through the storage layer and the pure domain.

``billing`` (usage, the bill run, invoices, customers, subscriptions), ``charges`` (instalments,
one-off charges, add-ons, plan changes ordered for later), ``lifecycle`` (the ledger, payments,
dunning, sending, links, messages, bookkeeping, the timeline), ``autopay`` (payment methods,
draws, Autogiro files), ``offers`` (marketing's offers, targeting, recommendations),
``support`` (threads, agents, the audit log) and ``access`` (sign-in, tokens, sessions,
revocations, throttling). See ``docs/architecture.md``.
"""
