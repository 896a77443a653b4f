"""Everything that speaks GitHub's REST API: the bot's only client of GitHub."""
