"""Training job of the diabetes classifier (see README.md)."""
