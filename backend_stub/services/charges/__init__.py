"""Charges beside the plans: phones on instalment, one-off charges and credits, add-ons bought, and plan changes
ordered for a later day (pending). The bill run claims each of them onto an invoice."""
