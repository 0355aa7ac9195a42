"""Notifications' use cases: contact points and preferences, events into messages, reminders, sending."""
