"""The citizen's own entrance: sign-in by SMS code, their petitions, their ratings (CONTRACT §9)."""
