"""The core's HTTP API, route by route."""
