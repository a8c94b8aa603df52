"""The command line, run as the back office runs it."""
