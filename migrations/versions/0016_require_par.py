"""clients that must push their authorization requests (RFC 9126)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04 00:40:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('oauth_clients') as batch:
        batch.add_column(
            sa.Column('require_par', sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table('oauth_clients') as batch:
        batch.drop_column('require_par')
