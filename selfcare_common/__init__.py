"""What the app (``selfcare``) and the core (``backend_stub``) both use: small pure modules, no I/O.

The app reaches the core only over HTTP (``selfcare.embedding`` mounting the core's app is the one
import from the app into the core), so what both sides need lives here, below both:
``deployment`` (which deployment this is), ``money_format`` (how an amount reads), ``csv_export``
(spreadsheet-safe CSV), ``security_headers`` (the headers middleware of both servers) and
``toml_text`` (TOML text without control characters). This package imports neither side
(``.importlinter``).
"""
