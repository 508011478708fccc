"""What every feature package may use and that imports no feature: the errors the services
raise, the audit log, money amounts, searchable words, Finnish working days and office hours,
the ports to the chat platforms, and the cache generations that worker processes share."""
