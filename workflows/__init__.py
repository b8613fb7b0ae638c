"""The SpiffWorkflow adapter. Knows SpiffWorkflow; knows nothing of Flask, HTTP or the database."""
from workflows import joins  # noqa: F401  (joins inside loops: applied before any workflow runs)
