"""The data lifecycle: housekeeping that keeps every table bounded (``sweeps``, ``sweeper``)."""
