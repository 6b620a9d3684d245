"""oauth_clients.version, moved on by a trigger on every UPDATE of the row, so that a process
caching client rows can tell, inside the statement it writes with, whether its copy is current

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04 19:10:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

PG_FUNCTION = """
CREATE FUNCTION oauth_clients_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.version := OLD.version + 1;
    RETURN NEW;
END
$$
"""
PG_TRIGGER = """
CREATE TRIGGER oauth_clients_version BEFORE UPDATE ON oauth_clients
FOR EACH ROW EXECUTE FUNCTION oauth_clients_version()
"""
# SQLite cannot change NEW in a trigger: an AFTER UPDATE trigger writes the number once more,
# OLD's plus one as on PostgreSQL whatever the UPDATE set it to (that write does not fire it
# again: the WHEN no longer holds, even with recursive triggers on).
SQLITE_TRIGGER = """
CREATE TRIGGER oauth_clients_version AFTER UPDATE ON oauth_clients
FOR EACH ROW WHEN NEW.version IS NOT OLD.version + 1
BEGIN
    UPDATE oauth_clients SET version = OLD.version + 1 WHERE id = NEW.id;
END
"""


def upgrade() -> None:
    # Not a batch: a plain ADD COLUMN on both, so SQLite keeps the table (and its indexes).
    op.add_column(
        'oauth_clients',
        sa.Column('version', sa.Integer(), nullable=False, server_default='0'),
    )
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(PG_FUNCTION)
        op.execute(PG_TRIGGER)
    else:
        op.execute(SQLITE_TRIGGER)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP TRIGGER IF EXISTS oauth_clients_version ON oauth_clients')
        op.execute('DROP FUNCTION IF EXISTS oauth_clients_version()')
    else:
        op.execute('DROP TRIGGER IF EXISTS oauth_clients_version')
    op.execute('ALTER TABLE oauth_clients DROP COLUMN version')
