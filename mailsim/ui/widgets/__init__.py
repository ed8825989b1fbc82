"""Reusable widgets of the app; each renders a model and posts messages up."""
