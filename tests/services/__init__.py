"""Real servers the test suite installs and starts (Dovecot IMAP)."""
