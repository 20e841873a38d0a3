"""Below everything: settings, errors, models, the typed analysis, the S3 key layout, retry
and formatting. Imports nothing of the package above it."""
