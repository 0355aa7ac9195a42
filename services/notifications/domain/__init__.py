"""Notifications' pure rules: who hears of what, when reminders fall due, how times and invites read."""
