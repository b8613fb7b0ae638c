"""Use cases: every business rule. Services take the acting user as an argument and flush; the entry floor commits."""
