"""groups, their members, and apps restricted to them

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 23:20:00
"""

from alembic import op
import sqlalchemy as sa

from service.db.types import UTCDateTime


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'groups',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('name', sa.String(64), nullable=False),
        sa.Column('name_key', sa.String(64), nullable=False, unique=True),
        sa.Column('description', sa.String(200), nullable=False),
        sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
    )
    op.create_table(
        'group_members',
        sa.Column(
            'group_id', sa.Integer(), sa.ForeignKey('groups.id', ondelete='CASCADE'),
            primary_key=True,
        ),
        sa.Column(
            'user_id', sa.Integer(), sa.ForeignKey('users.id', ondelete='CASCADE'),
            primary_key=True,
        ),
        sa.Column('added_at', UTCDateTime(timezone=True), nullable=False),
    )
    op.create_index('ix_group_members_user_id', 'group_members', ['user_id'])
    op.create_table(
        'client_groups',
        sa.Column(
            'client_pk', sa.Integer(), sa.ForeignKey('oauth_clients.id', ondelete='CASCADE'),
            primary_key=True,
        ),
        sa.Column(
            'group_id', sa.Integer(), sa.ForeignKey('groups.id', ondelete='RESTRICT'),
            primary_key=True,
        ),
    )
    op.create_index('ix_client_groups_group_id', 'client_groups', ['group_id'])
    with op.batch_alter_table('oauth_clients') as batch:
        batch.add_column(
            sa.Column('group_restricted', sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table('oauth_clients') as batch:
        batch.drop_column('group_restricted')
    op.drop_index('ix_client_groups_group_id', 'client_groups')
    op.drop_table('client_groups')
    op.drop_index('ix_group_members_user_id', 'group_members')
    op.drop_table('group_members')
    op.drop_table('groups')
