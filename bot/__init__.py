"""vertaisbot: the composition root and the Slack side (no business rules here)."""
