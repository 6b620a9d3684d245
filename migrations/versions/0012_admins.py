"""administrators are people: users.admin_since

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 23:10:00
"""

from alembic import op
import sqlalchemy as sa

from service.db.types import UTCDateTime


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('admin_since', UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('users') as batch:
        batch.drop_column('admin_since')
