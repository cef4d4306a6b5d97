"""Taxonomy: the categories and subcategories every question, resource and aggregate hangs from."""
