"""Alembic environment of the vote store (package data; run by ``Store.upgrade``)."""
