"""The vote store's tables: SQLAlchemy 2 models mirroring the head Alembic revision.

The schema belongs to the migrations in ``migrations/`` (a test compares these models with
them); :mod:`evaluate.study.store` holds the operations on the tables.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON, BigInteger, Boolean, DateTime, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class StudyRow(Base):
    __tablename__ = "study"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    design: Mapped[str] = mapped_column(String(20))
    definition: Mapped[dict] = mapped_column(JSON)
    digest: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class MethodRow(Base):
    __tablename__ = "method"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    folder: Mapped[str] = mapped_column(Text)
    studied: Mapped[bool] = mapped_column(Boolean)
    gold_role: Mapped[str | None] = mapped_column(String(10), nullable=True)


class SampleRow(Base):
    __tablename__ = "sample"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sample_id: Mapped[str] = mapped_column(String(200), unique=True)
    width: Mapped[int | None] = mapped_column(Integer, nullable=True)
    height: Mapped[int | None] = mapped_column(Integer, nullable=True)
    num_frames: Mapped[int | None] = mapped_column(Integer, nullable=True)
    fps: Mapped[float | None] = mapped_column(Float, nullable=True)


class VideoRow(Base):
    """A playable file: a sample's source (``method_id`` NULL) or one method's result."""

    __tablename__ = "video"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sample_pk: Mapped[int] = mapped_column(ForeignKey("sample.id"))
    method_id: Mapped[int | None] = mapped_column(ForeignKey("method.id"), nullable=True)
    path: Mapped[str] = mapped_column(Text)


class ItemRow(Base):
    """A comparison: methods shown together on one sample (``kind`` main or gold)."""

    __tablename__ = "item"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sample_pk: Mapped[int] = mapped_column(ForeignKey("sample.id"))
    kind: Mapped[str] = mapped_column(String(10))
    method_ids: Mapped[list] = mapped_column(JSON)
    good_ids: Mapped[list] = mapped_column(JSON)


class ParticipantRow(Base):
    __tablename__ = "participant"
    __table_args__ = (Index("uq_participant_external_key", "external_key", unique=True),)  # revision 0003
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    external_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    external_source: Mapped[str | None] = mapped_column(String(50), nullable=True)
    seed: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    consented_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    instructed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    completion_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # revision 0003: "<param>:<id>", unique, so a platform id has one session; the platform's
    # own study and session ids (Prolific's STUDY_ID, SESSION_ID) are kept for its reports.
    external_key: Mapped[str | None] = mapped_column(String(260), nullable=True)
    platform_study_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    platform_session_id: Mapped[str | None] = mapped_column(String(200), nullable=True)


class TrialRow(Base):
    """One trial of one participant: an item at a position, methods in screen order."""

    __tablename__ = "trial"
    __table_args__ = (
        UniqueConstraint("participant_id", "position", name="uq_trial_participant_position"),
        Index("ix_trial_item_id", "item_id"),  # revision 0002: assignment balancing counts by item
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id"))
    position: Mapped[int] = mapped_column(Integer)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"))
    layout: Mapped[list] = mapped_column(JSON)


class VoteRow(Base):
    __tablename__ = "vote"
    __table_args__ = (UniqueConstraint("participant_id", "trial_id", name="uq_vote_participant_trial"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id"))
    trial_id: Mapped[int] = mapped_column(ForeignKey("trial.id"))
    choice_position: Mapped[int | None] = mapped_column(Integer, nullable=True)  # NULL: "both equally"
    choice_method_id: Mapped[int | None] = mapped_column(ForeignKey("method.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    response_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)  # revision 0002
    # revision 0003: from the moment every video played (reported by the page) to the answer
    playback_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)
