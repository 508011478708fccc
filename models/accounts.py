"""Where the bot reaches a person on a chat platform other than Slack's user id: the conversation
reference Teams gives at install or at the first message (services/people/chat_accounts.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class ChatAccount(Base):
    """One person's account on one platform (`platform` = "teams"), with what a proactive message
    needs: the 1:1 conversation id, the regional service URL it came from and the tenant. Linked to
    the staff profile (`staff_profile_id`) when the directory (Entra) object id or the e-mail says
    whose it is; unlinked until then."""

    __tablename__ = "chat_accounts"
    __table_args__ = (
        UniqueConstraint("platform", "user_id", name="uq_chat_accounts_platform_user"),
        Index("ix_chat_accounts_directory", "directory_id"),
        Index("ix_chat_accounts_staff", "staff_profile_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[str] = mapped_column(String(200))  # Teams: the 29:... id in this bot's conversations
    directory_id: Mapped[str | None] = mapped_column(String(64), nullable=True)  # Entra object id
    tenant_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    conversation_id: Mapped[str] = mapped_column(String(400))
    service_url: Mapped[str] = mapped_column(String(400))
    email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    display_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    staff_profile_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_profiles.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column()
