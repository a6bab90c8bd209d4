"""Storage foundations: declarative base, portable types, engines and migrations."""
