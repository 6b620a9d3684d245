"""back-channel logout: client logout URI and the delivery queue

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 16:10:00
"""

from alembic import op
import sqlalchemy as sa
import service.db.types


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('oauth_clients') as batch:
        batch.add_column(
            sa.Column('backchannel_logout_uri', sa.Text(), nullable=False, server_default='')
        )
    op.create_table(
        'logout_deliveries',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('client_pk', sa.Integer(), nullable=False),
        sa.Column('subject', sa.String(length=64), nullable=False),
        sa.Column('sid', sa.String(length=64), nullable=True),
        sa.Column('created_at', service.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            'next_attempt_at', service.db.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('last_error', sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(['client_pk'], ['oauth_clients.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(
        op.f('ix_logout_deliveries_client_pk'), 'logout_deliveries', ['client_pk'], unique=False
    )
    op.create_index(
        op.f('ix_logout_deliveries_next_attempt_at'),
        'logout_deliveries',
        ['next_attempt_at'],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f('ix_logout_deliveries_next_attempt_at'), table_name='logout_deliveries')
    op.drop_index(op.f('ix_logout_deliveries_client_pk'), table_name='logout_deliveries')
    op.drop_table('logout_deliveries')
    with op.batch_alter_table('oauth_clients') as batch:
        batch.drop_column('backchannel_logout_uri')
