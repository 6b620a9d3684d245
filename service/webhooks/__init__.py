"""Webhooks (issue 16, item 5): apps subscribe to the audit trail's kinds (``user.created``
is ``signup`` there, ``signin.passkey.failed`` and so on) and Sesame posts each event to them,
signed the Standard Webhooks way, from a durable queue with retries.

* ``registry``: create, list, delete, rotate the secret, list the deliveries still owed.
* ``sender``: fans the audit trail out into deliveries (a cursor over the events, in the
  order they were recorded) and posts them, one person's events in order, retried with
  backoff for three days; at most one delivery per event id and webhook."""
