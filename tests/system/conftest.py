"""System tests: properties of the whole suite that no single service can check alone."""
