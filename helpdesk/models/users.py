from __future__ import annotations

from datetime import datetime

from flask import current_app, has_app_context
from flask_login import UserMixin
from sqlalchemy import JSON, Column, ForeignKey, Index, String, Table, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from helpdesk.extensions import Model, db
from helpdesk.models.base import utcnow

ROLES = ("admin", "agent", "light_agent", "customer")
# People behind the desk: they work in the agent pages. Light agents (colleagues from other
# departments) read tickets in their scope and add internal notes, nothing else.
BACKOFFICE_ROLES = ("admin", "agent", "light_agent")

team_members = Table(
    "team_members",
    db.metadata,
    Column("team_id", ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
)


class User(UserMixin, Model):
    """Anyone who signs in: admins, agents and customers.

    A customer is one person with several contact identities (see ``ContactIdentity``).
    """

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    role: Mapped[str] = mapped_column(String(20), default="customer", index=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    available: Mapped[bool] = mapped_column(default=True)
    # "Sees only tickets of my teams" (agents and light agents; admins always see everything).
    team_scoped: Mapped[bool] = mapped_column(default=False, server_default=false())
    tags: Mapped[str] = mapped_column(String(500), default="")
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Bumped when the password changes or the account is disabled: old sessions die.
    session_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]
    # The user's own time zone for dates on their pages; empty: the site's.
    timezone: Mapped[str | None] = mapped_column(String(64))
    # Knowing the customer (issue 24): the organisation (matched by email domain), how they
    # like to be addressed and reached, what they agreed to receive, the admin's custom fields.
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL"), index=True)
    preferred_name: Mapped[str | None] = mapped_column(String(200))
    language: Mapped[str | None] = mapped_column(String(10))  # "de"; empty: the browser's, else the site's
    preferred_channel: Mapped[str | None] = mapped_column(String(40))
    consent: Mapped[dict | None] = mapped_column(JSON)  # {"updates": false}; a kind not named: yes
    custom_fields: Mapped[dict | None] = mapped_column(JSON)

    teams: Mapped[list[Team]] = relationship(secondary=team_members, back_populates="members")
    organisation: Mapped[Organisation | None] = relationship(foreign_keys=[organisation_id])
    identities: Mapped[list[ContactIdentity]] = relationship(
        back_populates="user", cascade="all, delete-orphan", order_by="ContactIdentity.id"
    )

    def set_password(self, password: str) -> None:
        method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt") if has_app_context() else "scrypt"
        self.password_hash = generate_password_hash(password, method=method)
        self.session_version = (self.session_version or 0) + 1

    def check_password(self, password: str) -> bool:
        return bool(self.password_hash) and check_password_hash(self.password_hash, password)

    def get_id(self) -> str:
        # What Flask-Login keeps in the session and the remember-me cookie: the user, the
        # session version (a password change or disabling ends every session) and the key of
        # this browser's server-side session (``helpdesk.sessions``; logging out ends it).
        key = getattr(self, "session_key", None)
        return f"{self.id}:{self.session_version}:{key}" if key else f"{self.id}:{self.session_version}"

    @property
    def is_active(self) -> bool:
        return self.active and self.merged_into_id is None

    @property
    def is_staff(self) -> bool:
        return self.role in ("agent", "admin")

    @property
    def is_light_agent(self) -> bool:
        return self.role == "light_agent"

    @property
    def is_backoffice(self) -> bool:
        """Agents, admins and light agents: whoever works tickets in the agent pages."""
        return self.role in BACKOFFICE_ROLES

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def first_name(self) -> str:
        return (self.name or "").split(" ")[0] if self.name else ""

    @property
    def address_name(self) -> str:
        """How to greet them: the preferred name, else the first name."""
        return self.preferred_name or self.first_name

    def consents_to(self, kind: str) -> bool:
        """Whether the customer agreed to ``kind`` (service, surveys, updates): yes unless they said no."""
        return bool((self.consent or {}).get(kind, True))

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role} {self.email}>"


class Team(Model):
    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    description: Mapped[str] = mapped_column(String(500), default="")
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    business_hours_id: Mapped[int | None] = mapped_column(ForeignKey("business_hours.id", ondelete="SET NULL"))
    # manual, round_robin or least_loaded: the core's last-resort route_ticket
    assignment_strategy: Mapped[str] = mapped_column(String(20), default="manual")
    max_open_per_agent: Mapped[int | None]
    # Round-robin position, advanced with one atomic UPDATE so two processes never collide.
    rr_counter: Mapped[int] = mapped_column(default=0)

    members: Mapped[list[User]] = relationship(
        secondary=team_members, back_populates="teams", order_by="User.name"
    )
    lead: Mapped[User | None] = relationship(foreign_keys=[lead_id])


class ContactIdentity(Model):
    """One way to reach a customer: an email address, a phone number, a chat or social handle."""

    __tablename__ = "contact_identities"
    __table_args__ = (UniqueConstraint("kind", "value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(30))  # email, phone, chat, social:<network>
    value: Mapped[str] = mapped_column(String(320))
    verified: Mapped[bool] = mapped_column(default=False)
    bouncing: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship(back_populates="identities")


class LoginToken(Model):
    """A single-use, expiring magic sign-in link. Only the token's hash is stored."""

    __tablename__ = "login_tokens"
    __table_args__ = (Index("ix_login_tokens_token_hash", "token_hash", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship()


class Organisation(Model):
    """A company its customers belong to; new customers join by their address's domain."""

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    notes: Mapped[str] = mapped_column(Text, default="")
    # No foreign key in the database: users point at organisations, and a cycle of foreign
    # keys would leave tools that sort tables by them (``helpdesk db copy``) without an order.
    # An owner whose account is gone simply reads as no owner.
    account_owner_id: Mapped[int | None] = mapped_column(index=True)
    # Members see each other's tickets in the portal (``access.ticket_scope``).
    shared_tickets: Mapped[bool] = mapped_column(default=False, server_default=false())
    custom_fields: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    account_owner: Mapped[User | None] = relationship(
        primaryjoin="foreign(Organisation.account_owner_id) == User.id", viewonly=True)
    domains: Mapped[list[OrganisationDomain]] = relationship(
        back_populates="organisation", cascade="all, delete-orphan", order_by="OrganisationDomain.domain")


class OrganisationDomain(Model):
    """``example.com``: customers writing from it (or a subdomain) join the organisation."""

    __tablename__ = "organisation_domains"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    domain: Mapped[str] = mapped_column(String(253), unique=True)

    organisation: Mapped[Organisation] = relationship(back_populates="domains")
