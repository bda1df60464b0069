"""Data access: one small class per DynamoDB table (and the imports bucket), the only code that
knows their keys, items and conditional writes."""
