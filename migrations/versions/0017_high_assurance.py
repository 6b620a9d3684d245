"""high-assurance clients: their keys, their authentication method, DPoP, the FAPI 2.0 profile;
grants bound to a DPoP key (RFC 9449, RFC 7523, FAPI 2.0)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04 02:15:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('oauth_clients') as batch:
        batch.add_column(
            sa.Column('auth_method', sa.String(32), nullable=False, server_default='')
        )
        batch.add_column(sa.Column('jwks', sa.Text(), nullable=False, server_default=''))
        batch.add_column(sa.Column('jwks_uri', sa.Text(), nullable=False, server_default=''))
        batch.add_column(
            sa.Column('dpop_bound', sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column('profile', sa.String(16), nullable=False, server_default=''))
    op.add_column('oauth_grants', sa.Column('dpop_jkt', sa.String(43), nullable=True))


def downgrade() -> None:
    # Not a batch: SQLite's table copy would lose the expression index ix_oauth_grants_end.
    # Both PostgreSQL and SQLite (3.35 and later) drop a plain column in place.
    op.execute('ALTER TABLE oauth_grants DROP COLUMN dpop_jkt')
    with op.batch_alter_table('oauth_clients') as batch:
        for name in ('profile', 'dpop_bound', 'jwks_uri', 'jwks', 'auth_method'):
            batch.drop_column(name)
