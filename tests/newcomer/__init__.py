"""Tests of what a new user meets first: reproductions, recipes, docs, CLI honesty."""
