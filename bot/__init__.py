"""ssot-bot: single-source-of-truth rules for pull requests, and tracking issues kept true."""

__version__ = "0.3.0"
