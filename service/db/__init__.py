"""Durable storage: engine, tables, one repository module per aggregate. All SQL lives here.

One commit policy: a repository function joins the session it is given and never commits or
rolls back; the domain function that opened the session owns the transaction and commits it
(or lets the session close, which rolls back). Inserts that must report a conflict at once
flush, which is not a commit.
"""
