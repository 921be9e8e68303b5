"""Optimisation: the delivery model, routing engines, checker, pooling and locker siting."""
