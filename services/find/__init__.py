"""Finding a host for a topic: matching words to topics and offers, and ranking the hosts."""
