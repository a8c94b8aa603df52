"""Offers: targeting, recommendation, plan changes."""
