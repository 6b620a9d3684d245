"""Email: messages from templates, a durable outbox, and a background sender (SMTP or log)."""
