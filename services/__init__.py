"""The domain of vertaisbot: plain Python that knows nothing of Slack."""
