"""Block Kit builders: pure functions (data, t) -> dict. Nothing here talks to Slack."""
