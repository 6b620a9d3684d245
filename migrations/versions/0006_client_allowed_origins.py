"""client allowed origins (CORS for browser apps)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 16:00:00
"""

from urllib.parse import urlsplit

from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('oauth_clients') as batch:
        batch.add_column(
            sa.Column('allowed_origins', sa.Text(), nullable=False, server_default='')
        )
    # Public clients registered before: the origins of their web redirect URIs, as a new
    # registration gets by default (loopback IP literals and private-use schemes have none).
    clients = sa.table(
        'oauth_clients',
        sa.column('id', sa.Integer),
        sa.column('type', sa.String),
        sa.column('redirect_uris', sa.Text),
        sa.column('allowed_origins', sa.Text),
    )
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(clients.c.id, clients.c.redirect_uris).where(clients.c.type == 'public')
    ).all()
    for pk, redirect_uris in rows:
        origins = []
        for uri in redirect_uris.split():
            parts = urlsplit(uri)
            if parts.scheme in {'https', 'http'} and parts.hostname not in {'127.0.0.1', '::1'}:
                origins.append(f'{parts.scheme}://{parts.netloc}'.lower())
        bind.execute(
            clients.update()
            .where(clients.c.id == pk)
            .values(allowed_origins=' '.join(dict.fromkeys(origins)))
        )


def downgrade() -> None:
    with op.batch_alter_table('oauth_clients') as batch:
        batch.drop_column('allowed_origins')
