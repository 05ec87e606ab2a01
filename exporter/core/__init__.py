"""The plain data model, errors, options and text facts every stage shares; no stage here."""
