"""One session per platform id, the platform's study and session ids, and answer times
counted from playback start.

``participant.external_key`` (``"<param>:<id>"``, unique) makes a repeated
``PROLIFIC_PID`` resume its session instead of starting a second one. Studies that already
hold several sessions of one id keep them all (the analysis flags them); the key is set on
the first of each, so no new duplicates can appear. ``vote.playback_ms`` is the time from
the moment every video was playing (reported by the page) to the answer.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("participant") as batch:
        batch.add_column(sa.Column("external_key", sa.String(260), nullable=True))
        batch.add_column(sa.Column("platform_study_id", sa.String(200), nullable=True))
        batch.add_column(sa.Column("platform_session_id", sa.String(200), nullable=True))
    op.execute(
        "UPDATE participant SET external_key = external_source || ':' || external_id "
        "WHERE external_id IS NOT NULL AND external_source IS NOT NULL AND id IN ("
        "SELECT MIN(id) FROM participant WHERE external_id IS NOT NULL AND external_source IS NOT NULL "
        "GROUP BY external_source, external_id)"
    )
    op.create_index("uq_participant_external_key", "participant", ["external_key"], unique=True)
    with op.batch_alter_table("vote") as batch:
        batch.add_column(sa.Column("playback_ms", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("vote") as batch:
        batch.drop_column("playback_ms")
    op.drop_index("uq_participant_external_key", table_name="participant")
    with op.batch_alter_table("participant") as batch:
        batch.drop_column("platform_session_id")
        batch.drop_column("platform_study_id")
        batch.drop_column("external_key")
