"""Data shipped with the bot: the default region's libraries and the topic catalogue."""
