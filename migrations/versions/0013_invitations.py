"""invitations to create an account

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 23:25:00
"""

from alembic import op
import sqlalchemy as sa

from service.db.types import UTCDateTime


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'invitations',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('token_hash', sa.LargeBinary(32), nullable=False, unique=True),
        sa.Column('email', sa.String(320), nullable=False),
        sa.Column('email_key', sa.String(320), nullable=False),
        sa.Column('groups', sa.Text(), nullable=False),
        sa.Column(
            'invited_by', sa.Integer(), sa.ForeignKey('users.id', ondelete='SET NULL'),
            nullable=True,
        ),
        sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('expires_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('accepted_at', UTCDateTime(timezone=True), nullable=True),
    )
    op.create_index('ix_invitations_email_key', 'invitations', ['email_key'])
    op.create_index('ix_invitations_invited_by', 'invitations', ['invited_by'])
    op.create_index('ix_invitations_expires_at', 'invitations', ['expires_at'])


def downgrade() -> None:
    op.drop_index('ix_invitations_expires_at', 'invitations')
    op.drop_index('ix_invitations_invited_by', 'invitations')
    op.drop_index('ix_invitations_email_key', 'invitations')
    op.drop_table('invitations')
