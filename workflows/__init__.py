"""The SpiffWorkflow adapter. Knows SpiffWorkflow; knows nothing of Flask, HTTP or the database."""
