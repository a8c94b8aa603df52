"""Automatic payment: mandates, draws, Autogiro files."""
