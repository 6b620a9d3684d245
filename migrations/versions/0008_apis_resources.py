"""apis (resource servers), client api access, grant resource

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 16:20:00
"""

from alembic import op
import sqlalchemy as sa
import service.db.types


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'apis',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('api_id', sa.String(length=40), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('audience', sa.String(length=300), nullable=False),
        sa.Column('scopes', sa.Text(), nullable=False),
        sa.Column('secret_hash', sa.LargeBinary(length=32), nullable=False),
        sa.Column('created_at', service.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('api_id'),
        sa.UniqueConstraint('audience'),
    )
    with op.batch_alter_table('oauth_clients') as batch:
        batch.add_column(sa.Column('api_access', sa.Text(), nullable=False, server_default='{}'))
    with op.batch_alter_table('oauth_grants') as batch:
        batch.alter_column(
            'scope', existing_type=sa.String(length=200), type_=sa.String(length=1000)
        )
        batch.add_column(sa.Column('resource', sa.String(length=300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('oauth_grants') as batch:
        batch.drop_column('resource')
        batch.alter_column(
            'scope', existing_type=sa.String(length=1000), type_=sa.String(length=200)
        )
    with op.batch_alter_table('oauth_clients') as batch:
        batch.drop_column('api_access')
    op.drop_table('apis')
