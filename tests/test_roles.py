"""Roles that can be taken back: revoking a user, admins as configured at start, listing and revoking codes."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import update

from fupin.models import RegistrationCode, utcnow
from fupin.outreach.registration import RegistrationError, issue_code, open_codes, redeem_code, revoke_code
from fupin.outreach.users import bind_configured_admins, bind_user, identify, revoke_user
from fupin.values import Role, RoleGrant
from harness.fake_telegram import FakeTelegram
from harness.telegram_app import ADMIN_ID, RunningBot
from tests.conftest import Cli, Database
from tests.e2e import Bot
from tests.telegram_chat import say, with_bot

# --- the domain ------------------------------------------------------------------------------------------


def test_a_revoked_contact_is_a_buyer_without_places(db: Database, caplog: pytest.LogCaptureFixture) -> None:
    with db.sessions() as session, session.begin():
        bind_user(session, "telegram:71001", Role.CONTACT, township="龙角镇", village="张家村")
        bind_user(session, "telegram:71002", Role.LEAD, lead_unit="县教委")
    with caplog.at_level(logging.INFO, logger="fupin.outreach.users"), db.sessions() as session, session.begin():
        assert revoke_user(session, "telegram:71001") is Role.CONTACT
        assert revoke_user(session, "telegram:71002") is Role.LEAD
        assert revoke_user(session, "telegram:79999") is None
    assert "revoked telegram:71001: contact -> buyer" in caplog.text
    with db.sessions() as session:
        contact, lead = identify(session, "telegram:71001"), identify(session, "telegram:71002")
    assert contact.role is Role.BUYER and (contact.township_id, contact.village_id, contact.contact_id) == (None,) * 3
    assert lead.role is Role.BUYER and lead.lead_unit is None
    assert not contact.may_manage_place(contact.township_id or 0, None)


def test_admins_the_configuration_made_and_no_longer_lists_lose_the_role(db: Database) -> None:
    with db.sessions() as session, session.begin():
        assert bind_configured_admins(session, "telegram", ["1", "2"]) == []
        bind_user(session, "console:admin", Role.ADMIN)  # the console's admin is no Telegram account
        bind_user(session, "telegram:3", Role.ADMIN)  # `users add --role admin` on the server
        issue = issue_code(session, Role.ADMIN)
    with db.sessions() as session, session.begin():
        redeem_code(session, "telegram:4", issue.code)  # an admin by registration code
    with db.sessions() as session, session.begin():
        demoted = bind_configured_admins(session, "telegram", ["1"])
        assert [user.external_id for user in demoted] == ["2"]
    senders = ("telegram:1", "telegram:2", "telegram:3", "telegram:4", "console:admin")
    with db.sessions() as session:
        roles = {s: identify(session, s).role for s in senders}
    assert roles == {
        "telegram:1": Role.ADMIN,
        "telegram:2": Role.BUYER,  # the configuration made it and names it no more
        "telegram:3": Role.ADMIN,  # the operator's grant and the code's outlive a restart
        "telegram:4": Role.ADMIN,
        "console:admin": Role.ADMIN,
    }
    with db.sessions() as session, session.begin():
        assert revoke_user(session, "telegram:4") is Role.ADMIN  # revoking is how they lose it
        assert bind_configured_admins(session, "telegram", ["1"]) == []
        assert identify(session, "telegram:4").role is Role.BUYER
    # Named again, a demoted admin is an admin again.
    with db.sessions() as session, session.begin():
        bind_configured_admins(session, "telegram", ["1", "2"])
        assert identify(session, "telegram:2").role is Role.ADMIN


def test_open_codes_are_listed_without_the_code_and_can_be_revoked(db: Database) -> None:
    with db.sessions() as session, session.begin():
        contact = issue_code(session, Role.CONTACT, township="龙角镇", village="张家村")
        lead = issue_code(session, Role.LEAD, lead_unit="县教委")
        used = issue_code(session, Role.ADMIN)
        expired = issue_code(session, Role.ADMIN, ttl=timedelta(days=1))
    with db.sessions() as session, session.begin():
        redeem_code(session, "telegram:72001", used.code)
        session.execute(update(RegistrationCode).where(RegistrationCode.id == 4).values(expires_at=utcnow()))
    with db.sessions() as session:
        listed = open_codes(session)
    assert [(c.scope, c.role) for c in listed] == [
        ("龙角镇张家村供货联系人", Role.CONTACT),
        ("县教委牵头单位联系人", Role.LEAD),
    ]
    assert all(c.code not in repr(listed) for c in (contact, lead, used, expired))
    with db.sessions() as session, session.begin():
        assert revoke_code(session, listed[0].id)
        assert not revoke_code(session, listed[0].id)  # once
        assert not revoke_code(session, 3)  # already used
    with db.sessions() as session, session.begin(), pytest.raises(RegistrationError):
        redeem_code(session, "telegram:72002", contact.code)
    with db.sessions() as session:
        assert [c.scope for c in open_codes(session)] == ["县教委牵头单位联系人"]
        assert identify(session, "telegram:72002").role is None


# --- the command line ------------------------------------------------------------------------------------


def test_users_revoke_command(cli: Cli) -> None:
    assert cli("users", "add", "--user", "telegram:73001", "--role", "contact", "--township", "龙角镇").returncode == 0
    done = cli("users", "revoke", "--user", "telegram:73001")
    assert done.returncode == 0 and "已收回 telegram:73001 的供货联系人角色" in done.stdout
    unknown = cli("users", "revoke", "--user", "telegram:73999")
    assert unknown.returncode == 1 and "没有这个用户" in unknown.stdout


def test_users_invite_list_and_revoke_commands(cli: Cli) -> None:
    issued = cli("users", "invite", "--role", "contact", "--township", "龙角镇")
    assert issued.returncode == 0
    code = re.search(r"邀请码：([0-9A-Z]{10})", issued.stdout)
    assert code
    listed = cli("users", "invite", "--list")
    assert listed.returncode == 0 and "未使用、未过期的邀请码：1个" in listed.stdout
    assert "#1 龙角镇供货联系人" in listed.stdout and code[1] not in listed.stdout
    revoked = cli("users", "invite", "--revoke", "1")
    assert revoked.returncode == 0 and "邀请码 #1 已作废" in revoked.stdout
    assert "未使用、未过期的邀请码：0个" in cli("users", "invite", "--list").stdout
    assert cli("users", "invite", "--revoke", "1").returncode == 1
    assert cli("users", "invite").returncode == 2  # neither a role nor --list/--revoke
    assert cli("users", "invite", "--list", "--revoke", "1").returncode == 2  # one at a time


# --- Telegram --------------------------------------------------------------------------------------------

UNLISTED_ADMIN = 74001  # an admin in the database, not (any more) in ADMIN_TELEGRAM_IDS
CONTACT = 74002
STRANGER = 74003


@pytest.fixture(scope="module")
def telegram(bot: Bot, fake: FakeTelegram) -> Iterator[RunningBot]:
    """The bot started with only ADMIN_ID configured, on a database that still has another Telegram admin."""
    with bot.sessions() as session, session.begin():
        bind_user(session, f"telegram:{UNLISTED_ADMIN}", Role.ADMIN, grant=RoleGrant.CONFIG)
        bind_user(session, f"telegram:{CONTACT}", Role.CONTACT, township="龙角镇")
    with with_bot(bot, fake) as running:
        yield running
    with bot.sessions() as session, session.begin():
        for user in (UNLISTED_ADMIN, CONTACT):
            revoke_user(session, f"telegram:{user}")


def _role(bot: Bot, user: int) -> Role | None:
    with bot.sessions() as session:
        return identify(session, f"telegram:{user}").role


def test_an_admin_removed_from_the_configuration_is_demoted_at_start(
    telegram: RunningBot, fake: FakeTelegram, bot: Bot
) -> None:
    assert _role(bot, UNLISTED_ADMIN) is Role.BUYER and _role(bot, ADMIN_ID) is Role.ADMIN
    (answer,) = say(fake, UNLISTED_ADMIN, "/invite contact 龙角镇")
    assert "只对县级管理员开放" in (answer.text or "")
    menus = [c for c in fake.calls("setMyCommands") if c.params.get("scope", {}).get("chat_id") == UNLISTED_ADMIN]
    assert menus and "invite" not in {c["command"] for c in menus[-1].params["commands"]}


def test_an_admin_revokes_a_contact_by_chat(telegram: RunningBot, fake: FakeTelegram, bot: Bot) -> None:
    (refused,) = say(fake, STRANGER, f"/revoke {CONTACT}")
    assert "只对县级管理员开放" in (refused.text or "") and _role(bot, CONTACT) is Role.CONTACT
    (usage,) = say(fake, ADMIN_ID, "/revoke")
    assert "用法：/revoke" in (usage.text or "")
    (self_revoke,) = say(fake, ADMIN_ID, f"/revoke {ADMIN_ID}")
    assert "不能收回自己" in (self_revoke.text or "") and _role(bot, ADMIN_ID) is Role.ADMIN
    (done,) = say(fake, ADMIN_ID, f"/revoke {CONTACT}")
    assert f"已收回用户 {CONTACT} 的供货联系人角色" in (done.text or "")
    assert _role(bot, CONTACT) is Role.BUYER
    (unknown,) = say(fake, ADMIN_ID, "/revoke 74999")
    assert "没有找到用户 74999" in (unknown.text or "")
    admin_menus = [c for c in fake.calls("setMyCommands") if c.params.get("scope", {}).get("chat_id") == ADMIN_ID]
    assert "revoke" in {c["command"] for c in admin_menus[-1].params["commands"]}
