"""The demo operator."""
