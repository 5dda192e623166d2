"""Recommendations: one interface, one module per algorithm, evaluation."""
