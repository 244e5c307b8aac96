"""Typed SQLAlchemy 2 models. The schema is created only through Alembic (see migrations/)."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class Bureau(Base):
    """A county bureau (责任单位) or the joint office."""

    __tablename__ = "bureau"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    short_name: Mapped[str] = mapped_column(String(50))
    phone: Mapped[str] = mapped_column(String(50), default="")
    address: Mapped[str] = mapped_column(String(200), default="")
    office_hours: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    joint_office: Mapped[bool] = mapped_column(Boolean, default=False)
    position: Mapped[int] = mapped_column(Integer, default=0)

    services: Mapped[list[Service]] = relationship(back_populates="bureau")

    def __repr__(self) -> str:
        return f"<Bureau {self.code}>"


class Category(Base):
    """One of the seven quality-infrastructure categories."""

    __tablename__ = "category"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(50))
    name_en: Mapped[str] = mapped_column(String(80), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer, default=0)

    services: Mapped[list[Service]] = relationship(back_populates="category")


class Service(Base):
    """A catalog service and its guide (办事指南)."""

    __tablename__ = "service"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    category_id: Mapped[int] = mapped_column(ForeignKey("category.id"), index=True)
    bureau_id: Mapped[int] = mapped_column(ForeignKey("bureau.id"), index=True)
    summary: Mapped[str] = mapped_column(Text, default="")
    conditions: Mapped[str] = mapped_column(Text, default="")
    materials: Mapped[list[Any]] = mapped_column(default=list)
    process: Mapped[list[Any]] = mapped_column(default=list)
    legal_basis: Mapped[str] = mapped_column(Text, default="")
    time_limit_days: Mapped[int] = mapped_column(Integer)
    statutory_limit_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    fee: Mapped[str] = mapped_column(String(500), default="")
    place: Mapped[str] = mapped_column(String(300), default="")
    hours: Mapped[str] = mapped_column(String(200), default="")
    contact: Mapped[str] = mapped_column(String(200), default="")
    keywords: Mapped[list[Any]] = mapped_column(default=list)
    online: Mapped[bool] = mapped_column(Boolean, default=True)
    popular: Mapped[bool] = mapped_column(Boolean, default=False)
    published: Mapped[bool] = mapped_column(Boolean, default=True)
    # Set when `catalog import --replace` drops the service: it leaves the public catalog
    # but stays in the database so that requests referring to it keep their history.
    removed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    category: Mapped[Category] = relationship(back_populates="services")
    bureau: Mapped[Bureau] = relationship(back_populates="services")
    fields: Mapped[list[ServiceField]] = relationship(
        back_populates="service", order_by="ServiceField.position", cascade="all, delete-orphan"
    )

    @property
    def is_public(self) -> bool:
        return self.published and self.removed_at is None

    def __repr__(self) -> str:
        return f"<Service {self.code}>"


class ServiceField(Base):
    """A request-field definition of a service (Open311 attribute)."""

    __tablename__ = "service_field"
    __table_args__ = (UniqueConstraint("service_id", "code"),)

    DATATYPES = ("string", "number", "datetime", "text", "singlevaluelist", "multivaluelist")
    LIST_DATATYPES = ("singlevaluelist", "multivaluelist")

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(200))
    datatype: Mapped[str] = mapped_column(String(20))
    required: Mapped[bool] = mapped_column(Boolean, default=False)
    description: Mapped[str] = mapped_column(Text, default="")
    # [{"key": "...", "name": "..."}] for the two list datatypes, [] otherwise.
    values: Mapped[list[Any]] = mapped_column(default=list)
    position: Mapped[int] = mapped_column(Integer, default=0)

    service: Mapped[Service] = relationship(back_populates="fields")
