"""The functional core: SSOT rules over Python source text. No I/O, no GitHub."""
