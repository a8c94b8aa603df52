"""Automatic payment: each customer's payment method (``mandates``: manual, autogiro, saved card), the draws
(``draws``: what an invoice shows, retries, the fallback to manual payment, card draws) and Autogiro's files
(``autogiro_files``; which invoices its payment orders draw, ``autogiro_orders``). Banking days, account and personal numbers are ``domain.banking``.

Autogiro (Bankgirot's direct debit, files in ``formats.autogiro``):

* Choosing autogiro creates a mandate (``pending``); ``export_autogiro`` puts it in the next
  mandate file (TK04; a cancelled one as TK03). Bankgirot's mandate advice (TK73) makes it
  ``approved``, ``rejected`` or ``withdrawn``.
* ``export_autogiro(on=D)`` also writes a payment order file (TK82) with the invoices of
  customers whose mandate is approved that fall due within the operator's lead days, each
  to be drawn on its due date (the next banking day if that is not one).
* The answer (payment specification, or rejected orders) says paid: the payment is recorded
  with ``ledger.record_payment`` (the one way payments are recorded: BgMax, TestPay), once per
  bank reference; or failed. A draw that failed for want of cover (status 1), or was rejected
  for a reason that is not about the mandate, is ordered again ``retry_days`` banking days later,
  ``max_retries`` times; then, and at once when the mandate is gone (status 2, rejection codes
  01-03), the invoice falls back to manual payment: a timeline event and a message to the
  subscriber. Status 9 (renewed funds) means Bankgirot itself tries again: the draw stays pending.
* Importing the same file twice changes nothing (the file's hash), and neither does the same
  record in another file (a reference per record).

Card: the card is saved at the provider's hosted page (``services.lifecycle.paygw``; only its token,
brand, last four digits and expiry reach us). ``run_card_draws(on=D)`` charges the invoices due
by D, with the same retry rule (``card_retry_days`` later) and the same fallback.

Dunning holds while a draw is scheduled or pending (``held_invoice_ids``).
"""
