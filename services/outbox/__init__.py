"""What the bot owes people: the outbox of messages to deliver and the reminder engine that sends, retries and escalates them."""
