"""Adapters: the ports implemented on real services. Heavy SDKs are imported inside them only."""
