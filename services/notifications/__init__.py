"""Notifications service: telling people (e-mail with calendar invites, reminders) and state systems (webhooks).

Owns contact points (a person's e-mail, time zone and language), notification preferences (per
jurisdiction and per person), session reminders and the delivery log. Consumes scheduling's session,
registration and request events and content's adaptation reviews; publishes nothing. Learns the
Tribes among its tenants from ``scheduling.jurisdiction.added``.
"""

SERVICE = "notifications"
