"""Accounts carry a session epoch: changing it ends every session of the account.

Revision ID: 0003_session_epoch
Revises: 0002_crossings_and_login
Create Date: 2025-01-01

A session is valid only while it carries its account's current ``session_epoch``; a
logout, a password change or a new account of the same name gets a new random value.
0 (accounts of before this revision) matches no session: those were started before
sessions carried an epoch. ``PRAGMA user_version = 3`` before Alembic.
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_session_epoch"
down_revision = "0002_crossings_and_login"
branch_labels = None
depends_on = None

BIGINT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.add_column(
        "users", sa.Column("session_epoch", BIGINT, nullable=False, server_default=sa.text("0"))
    )


def downgrade() -> None:
    raise NotImplementedError("QMI Atlas migrations go forward only: append a new revision.")
