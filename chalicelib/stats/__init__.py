"""The figures of CONTRACT §6, computed from timeline events (never from counters that can drift)."""
