"""Agents and their supervisor."""
