"""The core's service-level hooks (registered as ``core.sla``, always enabled)."""
