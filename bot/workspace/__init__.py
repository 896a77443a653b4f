"""A local working tree, for the commands that run without GitHub (``ssot-bot check``,
``ssot-bot inventory``): which files to read (:mod:`.files`), the lines a diff or a git base
adds (:mod:`.diff`), the configuration found in the tree (:mod:`.config`), the re-exports over
the whole tree (:mod:`.reexports`), and a progress bar (:mod:`.progress`)."""
