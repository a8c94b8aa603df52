"""The roles of staff accounts, apart from the accounts' code (Argon2, the database) so that the command line
offers them as ``create-agent --role`` choices without loading it."""

ROLES = ("agent", "supervisor", "marketing")  # staff accounts; marketing has its own console
