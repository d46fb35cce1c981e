"""The learning rules: journal, time classification, XP, mastery, unlocks, Caliper builders.

Pure Python, standard library only. Nothing here imports Qt, HTTP, SQL or the OS.
"""
