"""Plain-Python rules of the register."""
