"""The core's command line: one parser (``main``), each area's commands in its own module, what they share
in ``common``."""
