"""Access: sign-in codes, signed tokens and roles, web sessions, revoked tokens, throttling and backoff."""
