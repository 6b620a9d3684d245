"""roles that groups hold at APIs

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 23:40:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'api_roles',
        sa.Column(
            'api_pk', sa.Integer(), sa.ForeignKey('apis.id', ondelete='CASCADE'),
            primary_key=True,
        ),
        sa.Column(
            'group_id', sa.Integer(), sa.ForeignKey('groups.id', ondelete='CASCADE'),
            primary_key=True,
        ),
        sa.Column('role', sa.String(64), primary_key=True),
    )
    op.create_index('ix_api_roles_group_id', 'api_roles', ['group_id'])


def downgrade() -> None:
    op.drop_index('ix_api_roles_group_id', 'api_roles')
    op.drop_table('api_roles')
