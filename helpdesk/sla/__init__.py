"""Service levels: business-hours clocks, targets per ticket, warnings and breaches."""
