"""selfcare_common: what app and core share (money format, CSV export, deployment, security headers)."""
