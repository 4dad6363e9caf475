"""The database schema: every row belongs to a workspace (Slack team)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, MetaData, String, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from db.types import UtcDateTime

# Named constraints keep later migrations (and SQLite batch mode) able to refer to them.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UtcDateTime()}


class MemberStatus(enum.StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    LEFT = "left"


class Workspace(Base):
    """A Slack workspace that installed PeerCoach, with its programme schedule."""

    __tablename__ = "workspaces"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32), unique=True)
    created_at: Mapped[datetime]
    # Schedule: a round every `cadence_weeks` weeks on `day_of_week` (0 = Monday) at `hour`
    # local time in `timezone`.
    cadence_weeks: Mapped[int] = mapped_column(Integer, default=1)
    day_of_week: Mapped[int] = mapped_column(Integer, default=0)
    hour: Mapped[int] = mapped_column(Integer, default=9)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    group_size: Mapped[int] = mapped_column(Integer, default=2)

    members: Mapped[list[Member]] = relationship(back_populates="workspace")


class Member(Base):
    """A person who opted in (or once did): status, profile and time zone."""

    __tablename__ = "members"
    __table_args__ = (UniqueConstraint("workspace_id", "slack_user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    slack_user_id: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default=MemberStatus.ACTIVE.value)
    paused_until: Mapped[datetime | None]
    joined_at: Mapped[datetime]
    left_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]
    level: Mapped[int | None] = mapped_column(Integer)
    team: Mapped[str | None] = mapped_column(String(80))
    goals: Mapped[list[str]] = mapped_column(JSON, default=list)
    tz_name: Mapped[str | None] = mapped_column(String(64))
    tz_offset_minutes: Mapped[int | None] = mapped_column(Integer)

    workspace: Mapped[Workspace] = relationship(back_populates="members")
    exclusions: Mapped[list[Exclusion]] = relationship(
        back_populates="member", cascade="all, delete-orphan", order_by="Exclusion.id"
    )


class Exclusion(Base):
    """One entry on a member's private "never pair me with" list."""

    __tablename__ = "exclusions"
    __table_args__ = (UniqueConstraint("member_id", "excluded_user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    # A Slack user id, not a member id: people may exclude someone who has not joined.
    excluded_user_id: Mapped[str] = mapped_column(String(32))

    member: Mapped[Member] = relationship(back_populates="exclusions")
