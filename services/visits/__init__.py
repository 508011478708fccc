"""Visits: proposing one, the decisions of its parties (the state machine), reading it as cards and lists, its messages, its reminders and its calendar invites."""
