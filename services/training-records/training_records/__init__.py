"""training-records: the chamber's register of training contracts (Ausbildungsverhältnisse)."""
