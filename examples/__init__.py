"""Runnable example sites (not part of the installed etalage package)."""
