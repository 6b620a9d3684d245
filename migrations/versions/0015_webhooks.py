"""webhooks and their deliveries

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04 00:10:00
"""

from alembic import op
import sqlalchemy as sa

from service.db.types import UTCDateTime


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'webhooks',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('webhook_id', sa.String(40), nullable=False, unique=True),
        sa.Column('url', sa.Text(), nullable=False),
        sa.Column('events', sa.Text(), nullable=False),
        sa.Column('sealed_secret', sa.LargeBinary(), nullable=False),
        sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
    )
    op.create_table(
        'webhook_deliveries',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column(
            'webhook_pk', sa.Integer(), sa.ForeignKey('webhooks.id', ondelete='CASCADE'),
            nullable=False,
        ),
        sa.Column('event_id', sa.Integer(), nullable=False),
        sa.Column('user_key', sa.String(64), nullable=False),
        sa.Column('payload', sa.Text(), nullable=False),
        sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('next_attempt_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('last_error', sa.String(200), nullable=False),
        sa.UniqueConstraint('webhook_pk', 'event_id'),
    )
    op.create_index('ix_webhook_deliveries_webhook_pk', 'webhook_deliveries', ['webhook_pk'])
    op.create_index(
        'ix_webhook_deliveries_next_attempt_at', 'webhook_deliveries', ['next_attempt_at']
    )
    op.create_table(
        'webhook_cursor',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('last_event_id', sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table('webhook_cursor')
    op.drop_index('ix_webhook_deliveries_next_attempt_at', 'webhook_deliveries')
    op.drop_index('ix_webhook_deliveries_webhook_pk', 'webhook_deliveries')
    op.drop_table('webhook_deliveries')
    op.drop_table('webhooks')
