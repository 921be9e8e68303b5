"""Optimisation layer: the delivery problem model, routing engines, checker, pooling and locker siting."""
