"""Record how long each answer took (``vote.response_ms``, NULL for votes cast before this
revision) and index trials by item, which the balanced assignment counts per participant.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("vote") as batch:
        batch.add_column(sa.Column("response_ms", sa.Integer(), nullable=True))
    op.create_index("ix_trial_item_id", "trial", ["item_id"])


def downgrade() -> None:
    op.drop_index("ix_trial_item_id", table_name="trial")
    with op.batch_alter_table("vote") as batch:
        batch.drop_column("response_ms")
