"""The petition aggregate: its state machine (a table), its stage clock, and its repository."""
