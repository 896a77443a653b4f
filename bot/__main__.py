"""``python -m bot`` is ``ssot-bot``."""

from bot.cli import main

raise SystemExit(main())
