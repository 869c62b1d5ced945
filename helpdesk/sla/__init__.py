"""Service levels: business-hours clocks, targets per ticket, warnings and breaches.

* ``clock``: business-time arithmetic (time zones, weekly hours, holidays), pure functions;
* ``engine``: which policy applies, the clocks of each ticket, and ``check_sla``, the
  periodic job that fires ``helpdesk_sla_warning`` and ``helpdesk_sla_breached``;
* ``hooks``: the hook implementations registered as the always-enabled ``core.sla``;
* ``views`` and ``forms``: Admin → Service levels.
"""
