"""Typed SQLAlchemy 2 models. The schema is created only through Alembic (see migrations/)."""
from __future__ import annotations

from contextlib import nullcontext
from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    literal_column,
    text,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, object_session, relationship
from sqlalchemy.sql.expression import ColumnElement
from sqlalchemy.types import TypeDecorator

from services.core import roles, statuses
from services.core.clock import utcnow


class UTCDateTime(TypeDecorator[datetime]):
    """A moment, stored in UTC and always read back timezone-aware: PostgreSQL keeps the offset,
    SQLite keeps none, so a naive value read from SQLite gets UTC attached here, once."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(timezone.utc)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value


class far_date(ColumnElement[date]):  # noqa: N801 - reads like a SQL function
    """9999-12-31 as a literal, never a bound parameter: the queue's expression
    indexes (``ix_ticket_deadline*``) only match a query whose expression is
    spelled exactly like theirs, also in prepared statements."""

    type = Date()
    inherit_cache = True


@compiles(far_date)
def _far_date_default(element, compiler, **kw):
    return "'9999-12-31'"  # SQLite keeps dates as ISO text


@compiles(far_date, "postgresql")
def _far_date_pg(element, compiler, **kw):
    return "DATE '9999-12-31'"


#: Statuses in which a ticket is still someone's work (the queue's default view).
#: In the order of the SQL text of the partial indexes ix_ticket_open_* (migration 0006):
#: submitted, accepted, in_progress, need_info, returned.
OPEN_TICKET_STATUSES = statuses.ordered(statuses.OPEN)


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
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

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


# ============================================================================ accounts
class Enterprise(Base):
    """An enterprise account holder, keyed by its 统一社会信用代码."""

    __tablename__ = "enterprise"

    id: Mapped[int] = mapped_column(primary_key=True)
    uscc: Mapped[str] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    contact_name: Mapped[str] = mapped_column(String(50))
    mobile: Mapped[str] = mapped_column(String(20))
    email: Mapped[str] = mapped_column(String(254))
    township: Mapped[str] = mapped_column(String(50))
    industry: Mapped[str] = mapped_column(String(50))
    size: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    users: Mapped[list[User]] = relationship(back_populates="enterprise")


class User(Base):
    """A person who logs in: an enterprise's staff member, a bureau's staff, a supervisor or an admin."""

    __tablename__ = "user"

    ROLES = roles.ROLES
    STAFF_ROLES = roles.STAFF

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), index=True)
    display_name: Mapped[str] = mapped_column(String(100), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprise.id"), nullable=True, index=True)
    bureau_id: Mapped[int | None] = mapped_column(ForeignKey("bureau.id"), nullable=True, index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    enterprise: Mapped[Enterprise | None] = relationship(back_populates="users")
    bureau: Mapped[Bureau | None] = relationship()
    tokens: Mapped[list[ApiToken]] = relationship(back_populates="user", cascade="all, delete-orphan")

    @property
    def is_staff(self) -> bool:
        return self.role in self.STAFF_ROLES

    # The session-login protocol (is_authenticated, is_active, is_anonymous, get_id).
    is_authenticated = True
    is_anonymous = False

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        return str(self.id)


class ApiToken(Base):
    """A bearer token for the API; only its SHA-256 is stored."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    name: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    user: Mapped[User] = relationship(back_populates="tokens")


# ============================================================================ requests and tickets
class Bundle(Base):
    """一件事一次办: several services asked for in one submission."""

    __tablename__ = "bundle"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    published: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    items: Mapped[list[BundleService]] = relationship(
        back_populates="bundle", order_by="BundleService.position", cascade="all, delete-orphan")


class BundleService(Base):
    __tablename__ = "bundle_service"

    bundle_id: Mapped[int] = mapped_column(ForeignKey("bundle.id", ondelete="CASCADE"), primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    bundle: Mapped[Bundle] = relationship(back_populates="items")
    service: Mapped[Service] = relationship()


class RoutingRule(Base):
    """Sends matching requests to a bureau other than the service's own.

    `conditions` holds any of: townships, industries, sizes, services (codes), categories
    (codes), keywords (any found in the description), field ({"code": ..., "values": [...]}).
    Every condition present must hold; lists match when any element matches.
    """

    __tablename__ = "routing_rule"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    priority: Mapped[int] = mapped_column(Integer, default=100)
    bureau_id: Mapped[int] = mapped_column(ForeignKey("bureau.id"))
    conditions: Mapped[dict[str, Any]] = mapped_column(default=dict)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    bureau: Mapped[Bureau] = relationship()


class Request(Base):
    """One submission by an enterprise: a single service, a bundle, or a free-text need."""

    __tablename__ = "request"
    __table_args__ = (UniqueConstraint("user_id", "idempotency_key"),)

    KINDS = ("service", "bundle", "need")

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(10))
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    bundle_id: Mapped[int | None] = mapped_column(ForeignKey("bundle.id"), nullable=True)
    description: Mapped[str] = mapped_column(Text, default="")
    contact_name: Mapped[str] = mapped_column(String(50))
    contact_mobile: Mapped[str] = mapped_column(String(20))
    contact_email: Mapped[str] = mapped_column(String(254), default="")
    status: Mapped[str] = mapped_column(String(20), index=True)
    query_code: Mapped[str] = mapped_column(String(12))
    idempotency_key: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    enterprise: Mapped[Enterprise] = relationship()
    user: Mapped[User] = relationship()
    bundle: Mapped[Bundle | None] = relationship()
    items: Mapped[list[RequestItem]] = relationship(back_populates="request", order_by="RequestItem.id",
                                                    cascade="all, delete-orphan")
    tickets: Mapped[list[Ticket]] = relationship(back_populates="request", order_by="Ticket.id",
                                                 cascade="all, delete-orphan")
    events: Mapped[list[TicketEvent]] = relationship(back_populates="request", order_by="TicketEvent.id",
                                                     cascade="all, delete-orphan")
    attachments: Mapped[list[Attachment]] = relationship(back_populates="request", order_by="Attachment.id",
                                                         cascade="all, delete-orphan")


class RequestItem(Base):
    """One requested service with the values of its request fields."""

    __tablename__ = "request_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("request.id", ondelete="CASCADE"), index=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"), index=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"), nullable=True, index=True)
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    #: This service's own handling deadline (its promised working days from acceptance).
    due_date: Mapped[date | None] = mapped_column(Date, nullable=True)

    request: Mapped[Request] = relationship(back_populates="items")
    service: Mapped[Service] = relationship()
    ticket: Mapped[Ticket | None] = relationship(back_populates="items")


class Ticket(Base):
    """办件: the part of a request one bureau handles."""

    __tablename__ = "ticket"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("request.id", ondelete="CASCADE"), index=True)
    bureau_id: Mapped[int] = mapped_column(ForeignKey("bureau.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    routing_rule_id: Mapped[int | None] = mapped_column(ForeignKey("routing_rule.id"), nullable=True)
    routing_reason: Mapped[str] = mapped_column(Text, default="")
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), nullable=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    due_date: Mapped[date | None] = mapped_column(Date, nullable=True, index=True)  # its earliest service due
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # The acceptance deadline (签收: 2 working days after submission) and the 补正 clock stop.
    accept_due: Mapped[date | None] = mapped_column(Date, nullable=True)
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    paused_days: Mapped[int] = mapped_column(Integer, default=0)
    info_due: Mapped[date | None] = mapped_column(Date, nullable=True)  # answer a 补正 notice by
    supervised_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)

    request: Mapped[Request] = relationship(back_populates="tickets")
    bureau: Mapped[Bureau] = relationship()
    routing_rule: Mapped[RoutingRule | None] = relationship()
    assignee: Mapped[User | None] = relationship()
    items: Mapped[list[RequestItem]] = relationship(back_populates="ticket", order_by="RequestItem.id")
    co_handlers: Mapped[list[CoHandler]] = relationship(order_by="CoHandler.id", cascade="all, delete-orphan")

    __mapper_args__ = {"version_id_col": version}


def ticket_deadline(table=Ticket):
    """The date that matters now: the acceptance deadline until accepted, then the handling
    deadline; tickets with neither sort last. The staff queue orders by (this, id)."""
    return func.coalesce(table.due_date, table.accept_due, far_date(), type_=Date)


def ticket_is_open():
    """WHERE the ticket is open, with the statuses spelled as literals: only then does
    PostgreSQL use the partial indexes ``ix_ticket_open_*`` in every plan (a bound parameter
    list cannot prove their WHERE clause)."""
    return Ticket.status.in_([literal_column(f"'{s}'") for s in OPEN_TICKET_STATUSES])


_OPEN_STATUS_SQL = text("status IN (%s)" % ", ".join(f"'{s}'" for s in OPEN_TICKET_STATUSES))
# The queue's pages: per bureau and county-wide, all tickets and the open ones only.
Index("ix_ticket_bureau_deadline", Ticket.bureau_id, ticket_deadline(), Ticket.id)
Index("ix_ticket_deadline", ticket_deadline(), Ticket.id)
Index("ix_ticket_open_bureau_deadline", Ticket.bureau_id, ticket_deadline(), Ticket.id,
      postgresql_where=_OPEN_STATUS_SQL, sqlite_where=_OPEN_STATUS_SQL)
Index("ix_ticket_open_deadline", ticket_deadline(), Ticket.id,
      postgresql_where=_OPEN_STATUS_SQL, sqlite_where=_OPEN_STATUS_SQL)


class TicketEvent(Base):
    """One line of a request's timeline: a status change, a reply, a note, a routing decision."""

    __tablename__ = "ticket_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("request.id", ondelete="CASCADE"), index=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"), nullable=True,
                                                  index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), nullable=True)
    #: The bureau that held the ticket when this happened (before the action changed it).
    bureau_id: Mapped[int | None] = mapped_column(ForeignKey("bureau.id"), nullable=True, index=True)
    kind: Mapped[str] = mapped_column(String(30))
    from_status: Mapped[str | None] = mapped_column(String(20), nullable=True)
    to_status: Mapped[str | None] = mapped_column(String(20), nullable=True)
    message: Mapped[str] = mapped_column(Text, default="")
    public: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    request: Mapped[Request] = relationship(back_populates="events")
    ticket: Mapped[Ticket | None] = relationship()
    actor: Mapped[User | None] = relationship()
    bureau: Mapped[Bureau | None] = relationship()
    attachments: Mapped[list[Attachment]] = relationship(back_populates="event", order_by="Attachment.id")

    def __init__(self, **values: Any):
        super().__init__(**values)
        ticket = self.ticket
        if self.bureau is None and self.bureau_id is None and ticket is not None:
            session = object_session(ticket)  # no flush of this half-built event while loading
            with session.no_autoflush if session is not None else nullcontext():
                self.bureau = ticket.bureau


class Attachment(Base):
    """An uploaded file, stored under a random name in the instance folder."""

    __tablename__ = "attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("request.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("ticket_event.id"), nullable=True)
    uploaded_by: Mapped[int] = mapped_column(ForeignKey("user.id"))
    original_name: Mapped[str] = mapped_column(String(255))
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    mime_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    request: Mapped[Request] = relationship(back_populates="attachments")
    event: Mapped[TicketEvent | None] = relationship(back_populates="attachments")


# ============================================================================ mail
class OutboxMessage(Base):
    """An e-mail waiting to be sent. Written in the same transaction as the change it reports,
    so a mail server outage never loses or blocks that change; `notify send` delivers it."""

    __tablename__ = "outbox_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    to_addr: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")


# ============================================================================ workbench
class HolidayOverride(Base):
    """A day the admin marks as holiday or make-up working day, for years the official calendar
    library does not cover yet (or to correct it). Wins over the library."""

    __tablename__ = "holiday_override"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, unique=True)
    is_workday: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(String(100), default="")


class CoHandler(Base):
    """协办: another bureau adding its part to a ticket."""

    __tablename__ = "co_handler"
    __table_args__ = (UniqueConstraint("ticket_id", "bureau_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"), index=True)
    bureau_id: Mapped[int] = mapped_column(ForeignKey("bureau.id"), index=True)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    bureau: Mapped[Bureau] = relationship()


class CannedReply(Base):
    """A bureau's ready-made reply text."""

    __tablename__ = "canned_reply"

    id: Mapped[int] = mapped_column(primary_key=True)
    bureau_id: Mapped[int] = mapped_column(ForeignKey("bureau.id"), index=True)
    title: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)


class Notification(Base):
    """An in-app notice for one user."""

    __tablename__ = "notification"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("request.id", ondelete="CASCADE"), nullable=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"), nullable=True)
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class Rating(Base):
    """好差评: the enterprise's score for one ticket. Round 2 is the re-rating after a 差评 follow-up."""

    __tablename__ = "rating"
    __table_args__ = (UniqueConstraint("ticket_id", "round"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    round: Mapped[int] = mapped_column(Integer, default=1)
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    follow_up_due: Mapped[date | None] = mapped_column(Date, nullable=True)
    follow_up_note: Mapped[str] = mapped_column(Text, default="")
    follow_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    follow_up_by: Mapped[int | None] = mapped_column(ForeignKey("user.id"), nullable=True)

    ticket: Mapped[Ticket] = relationship()


# ============================================================================ administration
class AuditLog(Base):
    """Every admin change: who, when, what, and the values before and after."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), nullable=True, index=True)
    action: Mapped[str] = mapped_column(String(40))          # create / update / delete / publish / …
    entity: Mapped[str] = mapped_column(String(40), index=True)  # service / bureau / routing_rule / …
    entity_key: Mapped[str] = mapped_column(String(100))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)

    actor: Mapped[User | None] = relationship()


# ============================================================================ search
class SearchOutbox(Base):
    """A change that affects a search index, written in the same transaction as the change.
    Each host's indexer (`flask --app portal search sync --follow`) applies the rows after its
    own position, so several hosts can each keep their own index files."""

    __tablename__ = "search_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))   # "service" or "ticket"
    key: Mapped[str] = mapped_column(String(40))    # service code or ticket number
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


# ============================================================================ statistics
class StatsCache(Base):
    """A finished statistics result (the dashboard's report, the public performance page) kept
    for a few minutes, shared by every worker and host. Written and read by services.stats.reports;
    a cache only: deleting any or all rows is always safe."""

    __tablename__ = "stats_cache"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column()
