"""The core's last-resort assignment (registered as ``core.assignment``, always enabled)."""
