"""`user create` and `user token` with the pages' validation."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.extensions import db
from services.models import User


def create(runner, *args, password="passw0rd-ok"):
    return runner.invoke(args=["user", "create", *args, "--password-stdin"], input=password + "\n")


def test_create_handler_and_token(app, runner, client):
    result = create(runner, "wang", "--role", "handler", "--bureau", "amr", "--email", "wang@example.com")
    assert result.exit_code == 0, result.output
    assert "已创建账号 wang" in result.output
    result = runner.invoke(args=["user", "token", "wang"])
    token = result.output.strip()
    assert result.exit_code == 0 and token.startswith("lxq_")
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "wang"))
        assert user.bureau.code == "amr" and user.password_hash != "passw0rd-ok"
    assert client.get("/api/v1/requests/LX1", headers={"Authorization": f"Bearer {token}"}).status_code == 404


def test_create_enterprise_account(app, runner):
    result = create(runner, "91350100M000100Y43", "--role", "enterprise", "--uscc", "91350100m000100y43",
                    "--company", "澧县兰江食品有限公司")
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalar(select(User)).enterprise.uscc == "91350100M000100Y43"


@pytest.mark.parametrize("args,password,message", [
    (["x1", "--role", "handler"], "passw0rd-ok", "--bureau"),
    (["x2", "--role", "handler", "--bureau", "nasa"], "passw0rd-ok", "nasa"),
    (["x3", "--role", "admin"], "short", "8 位"),
    (["x4", "--role", "enterprise", "--uscc", "91350100M000100Y44", "--company", "甲"], "passw0rd-ok", "校验位"),
    (["x5", "--role", "enterprise"], "passw0rd-ok", "--uscc"),
    (["bad name!", "--role", "admin"], "passw0rd-ok", "用户名"),
    (["x6", "--role", "admin", "--email", "nope"], "passw0rd-ok", "邮箱"),
])
def test_create_refuses_bad_input(app, runner, args, password, message):
    result = create(runner, *args, password=password)
    assert result.exit_code != 0 and message in result.output
    with app.app_context():
        assert db.session.scalar(select(User)) is None


def test_duplicate_username(runner):
    assert create(runner, "wang", "--role", "admin").exit_code == 0
    result = create(runner, "WANG", "--role", "admin")
    assert result.exit_code != 0 and "已被使用" in result.output


def test_token_for_unknown_user(runner):
    result = runner.invoke(args=["user", "token", "ghost"])
    assert result.exit_code != 0 and "没有用户" in result.output
