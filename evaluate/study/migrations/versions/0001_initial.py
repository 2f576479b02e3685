"""The first schema: study definition, methods, samples, videos, comparisons, participants,
trials and votes (one vote per participant and trial).

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "study",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("design", sa.String(20), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
    )
    op.create_table(
        "method",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("folder", sa.Text(), nullable=False),
        sa.Column("studied", sa.Boolean(), nullable=False),
        sa.Column("gold_role", sa.String(10), nullable=True),
    )
    op.create_table(
        "sample",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("sample_id", sa.String(200), nullable=False, unique=True),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("num_frames", sa.Integer(), nullable=True),
        sa.Column("fps", sa.Float(), nullable=True),
    )
    op.create_table(
        "video",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("sample_pk", sa.Integer(), sa.ForeignKey("sample.id"), nullable=False),
        sa.Column("method_id", sa.Integer(), sa.ForeignKey("method.id"), nullable=True),
        sa.Column("path", sa.Text(), nullable=False),
    )
    op.create_table(
        "item",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("sample_pk", sa.Integer(), sa.ForeignKey("sample.id"), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("method_ids", sa.JSON(), nullable=False),
        sa.Column("good_ids", sa.JSON(), nullable=False),
    )
    op.create_table(
        "participant",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("token", sa.String(64), nullable=False, unique=True),
        sa.Column("external_id", sa.String(200), nullable=True),
        sa.Column("external_source", sa.String(50), nullable=True),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("consented_at", _TS, nullable=True),
        sa.Column("instructed_at", _TS, nullable=True),
        sa.Column("completed_at", _TS, nullable=True),
        sa.Column("completion_code", sa.String(64), nullable=True),
    )
    op.create_table(
        "trial",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("participant_id", sa.Integer(), sa.ForeignKey("participant.id"), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), sa.ForeignKey("item.id"), nullable=False),
        sa.Column("layout", sa.JSON(), nullable=False),
        sa.UniqueConstraint("participant_id", "position", name="uq_trial_participant_position"),
    )
    op.create_table(
        "vote",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("participant_id", sa.Integer(), sa.ForeignKey("participant.id"), nullable=False),
        sa.Column("trial_id", sa.Integer(), sa.ForeignKey("trial.id"), nullable=False),
        sa.Column("choice_position", sa.Integer(), nullable=True),
        sa.Column("choice_method_id", sa.Integer(), sa.ForeignKey("method.id"), nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.UniqueConstraint("participant_id", "trial_id", name="uq_vote_participant_trial"),
    )


def downgrade() -> None:
    for table in ("vote", "trial", "participant", "item", "video", "sample", "method", "study"):
        op.drop_table(table)
