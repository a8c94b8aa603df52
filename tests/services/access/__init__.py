"""Access: sessions, sign-in throttling."""
