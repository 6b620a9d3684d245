"""indexes for housekeeping: sessions by lifetime, grants by when their last token lapses

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 08:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_sessions_expires_at', 'sessions', ['expires_at'])
    op.create_index('ix_sessions_last_seen_at', 'sessions', ['last_seen_at'])
    op.create_index(
        'ix_oauth_grants_end', 'oauth_grants',
        [sa.text('coalesce(refresh_expires_at, expires_at)')],
    )


def downgrade() -> None:
    op.drop_index('ix_oauth_grants_end', table_name='oauth_grants')
    op.drop_index('ix_sessions_last_seen_at', table_name='sessions')
    op.drop_index('ix_sessions_expires_at', table_name='sessions')
