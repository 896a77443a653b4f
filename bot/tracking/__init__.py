"""Tracking issues: the pure checklist model (:mod:`.model`), its edits (:mod:`.edit`), what the
bot says (:mod:`.messages`) and PR-body link parsing (:mod:`.links`)."""
