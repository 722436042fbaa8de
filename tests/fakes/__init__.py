"""Local stand-ins for third-party platforms, for csgw's tests and for plugin authors' tests."""
