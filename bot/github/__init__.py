"""Everything that speaks GitHub's REST API: the bot's client and a local emulator of GitHub."""
