"""The service catalog: records and validation, catalog files, the public directory, admin editing."""
