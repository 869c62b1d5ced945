"""The core reports: per-ticket facts (``facts``) and the numbers a lead reads (``metrics``)."""
