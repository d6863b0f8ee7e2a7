"""The organization's users: the API key's own user (``GET me/``) and the active and inactive
memberships of its organization (``GET organization/{id}/``), each request made once.

The importer resolves a ``user`` cell through :class:`Users` (by id, lower-case email or full
name; a name two users share maps to ``""``); the exporter writes users as their emails; the
``closecsv users`` listing shows them all.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from closecsv.close.api import ReadApi
from closecsv.close.shapes import Me, require

MEMBERSHIPS = {"active": "memberships", "inactive": "inactive_memberships"}


@dataclass
class Users:
    """Users by every key a cell may use (id, lower-case email, full name; ``""`` when a
    name is shared), emails by id, and the API key's own user."""

    by_key: dict[str, str]
    email_by_id: dict[str, str]
    me: str


@dataclass
class UserDirectory:
    """The users of the API key's organization, loaded once and cached."""

    client: ReadApi
    _me: dict[str, Any] | None = None
    _members: dict[str, list[dict[str, Any]]] | None = None
    _users: Users | None = field(default=None, repr=False)

    def me(self) -> dict[str, Any]:
        """The API key's own user, with its ``organizations`` (one request, cached)."""
        if self._me is None:
            me = dict(self.client.get("me/"))
            require(Me, me, "GET me/")  # a user id and an organization, or one clear error
            self._me = me
        return self._me

    def organization(self) -> str:
        """The id of the API key's organization."""
        return str(self.me()["organizations"][0]["id"])

    def members(self) -> dict[str, list[dict[str, Any]]]:
        """The organization's users by status, ``active`` then ``inactive`` (one request)."""
        if self._members is None:
            expand = {"_expand": "memberships__user,inactive_memberships__user"}
            org = self.client.get(f"organization/{self.organization()}/", expand)
            self._members = {
                status: [member_user(m) for m in org.get(key) or [] if isinstance(m, dict)]
                for status, key in MEMBERSHIPS.items()
            }
        return self._members

    def users(self) -> Users:
        """Every user of the organization, active or not, and the API key's own user."""
        if self._users is None:
            me = self.me()
            members = self.members()
            self._users = user_index([*members["active"], *members["inactive"], me], str(me["id"]))
        return self._users


def member_user(member: Mapping[str, Any]) -> dict[str, Any]:
    """The user of one membership, expanded (``user``) or flat (``user_*`` keys)."""
    nested = member.get("user")
    if isinstance(nested, dict):
        return nested
    return {k.removeprefix("user_"): v for k, v in member.items() if k.startswith("user_")} | {
        "id": member.get("user_id")
    }


def full_name(user: Mapping[str, Any]) -> str:
    """The name a ``user`` cell may use: the display name, else first and last name."""
    named = user.get("display_name") or user.get("full_name") or user.get("name")
    if named:
        return str(named)
    return f"{user.get('first_name') or ''} {user.get('last_name') or ''}".strip()


def user_index(users: list[dict[str, Any]], me: str) -> Users:
    """:class:`Users` for these user records; ``me`` is the API key's own user id."""
    by_key: dict[str, str] = {}
    emails: dict[str, str] = {}
    for user in users:
        uid = str(user["id"])
        emails[uid] = str(user.get("email") or uid)
        for key in (uid, str(user.get("email") or "").lower(), full_name(user)):
            if key:
                by_key[key] = "" if by_key.get(key, uid) != uid else uid
    return Users(by_key, emails, me)
