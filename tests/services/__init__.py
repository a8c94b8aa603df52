"""The core's services, one folder per area."""
