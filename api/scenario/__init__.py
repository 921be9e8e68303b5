"""Scenario files: schema, validation with line numbers, the end-to-end runner and sweeps."""
