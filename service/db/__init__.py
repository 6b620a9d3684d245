"""Durable storage: engine, tables, one repository module per aggregate."""
