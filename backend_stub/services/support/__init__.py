"""Support: message threads on invoices (questions, answers, credits and waived fees), agents, the audit log."""
