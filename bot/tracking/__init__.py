"""Tracking issues: the pure checklist editor (:mod:`.checklist`) and PR-body link parsing
(:mod:`.links`)."""
