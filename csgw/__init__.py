"""csgw: a self-hosted customer-service gateway."""

__version__ = "0.1.0"
