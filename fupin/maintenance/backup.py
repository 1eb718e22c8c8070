"""Back up and restore the database: SQLite through its online backup API, PostgreSQL through pg_dump.

Copying a WAL-mode SQLite file alone gives an inconsistent copy (the last commits live in the -wal file,
and a writer may be mid-checkpoint). The backup API copies the pages inside one read transaction instead,
so the copy is the database as of one instant, while the bot keeps writing.
"""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy.engine import URL, make_url

from fupin.db import MIGRATIONS_DIR

logger = logging.getLogger(__name__)

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"


class BackupError(Exception):
    """A backup or restore that cannot be done; the message is a Chinese reason for the operator."""


def backup(database_url: str, out: Path) -> Path:
    """Write a consistent copy of the database to `out` (SQLite file, or a pg_dump custom archive)."""
    url = make_url(database_url)
    out.parent.mkdir(parents=True, exist_ok=True)
    if url.get_backend_name() == "sqlite":
        _sqlite_backup(_sqlite_path(url), out)
    elif url.get_backend_name() == "postgresql":
        _run(["pg_dump", "--format=custom", f"--file={out}", f"--dbname={_libpq_url(url)}"], url)
    else:
        raise BackupError(f"不支持备份此类数据库：{url.get_backend_name()}")
    logger.info("backed up %s to %s", url.render_as_string(hide_password=True), out)
    return out


def restore(database_url: str, source: Path) -> None:
    """Replace the database's contents with a backup made by `backup`; refuses a file that is not one."""
    url = make_url(database_url)
    if not source.is_file():
        raise BackupError(f"找不到备份文件：{source}")
    head = _head(source)
    if url.get_backend_name() == "sqlite":
        if not head.startswith(SQLITE_MAGIC):
            raise BackupError(f"{source.name} 不是 SQLite 数据库备份，未恢复")
        _check_revision(source)
        _sqlite_copy(source, _sqlite_path(url, must_exist=False))
    elif url.get_backend_name() == "postgresql":
        if not head.startswith(PG_DUMP_MAGIC):
            raise BackupError(f"{source.name} 不是 pg_dump 备份（--format=custom），未恢复")
        _run(["pg_restore", "--clean", "--if-exists", "--no-owner", f"--dbname={_libpq_url(url)}", str(source)], url)
    else:
        raise BackupError(f"不支持恢复此类数据库：{url.get_backend_name()}")
    logger.info("restored %s from %s", url.render_as_string(hide_password=True), source)


def _head(path: Path) -> bytes:
    with path.open("rb") as handle:
        return handle.read(len(SQLITE_MAGIC))


def _sqlite_path(url: URL, must_exist: bool = True) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("内存数据库无法备份或恢复")
    path = Path(url.database)
    if must_exist and not path.is_file():
        raise BackupError(f"找不到数据库文件：{path}")
    return path


def _sqlite_backup(database: Path, out: Path) -> None:
    # mode=rw: never create an empty database where the real one was expected.
    partial = out.with_name(out.name + ".part")
    partial.unlink(missing_ok=True)
    source = sqlite3.connect(f"file:{database}?mode=rw", uri=True, timeout=30)
    try:
        target = sqlite3.connect(partial)
        try:
            # All pages in one step: one read transaction, so concurrent commits cannot tear the copy
            # (in steps, each commit by another connection would restart it).
            source.backup(target)
            (verdict,) = target.execute("PRAGMA integrity_check").fetchone()
            if verdict != "ok":
                raise BackupError(f"备份文件校验失败：{verdict}")
        finally:
            target.close()
    finally:
        source.close()
    # Renamed only once complete: a half-written backup never carries the final name.
    partial.replace(out)


def _sqlite_copy(source: Path, database: Path) -> None:
    database.parent.mkdir(parents=True, exist_ok=True)
    reader = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        target = sqlite3.connect(database, timeout=30)
        try:
            reader.backup(target)
        finally:
            target.close()
    finally:
        reader.close()


def _check_revision(source: Path) -> None:
    # A file from another program, or from a newer version of this one, would be a database the code
    # cannot run on: refused before anything is overwritten.
    reader = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        (verdict,) = reader.execute("PRAGMA integrity_check").fetchone()
        if verdict != "ok":
            raise BackupError(f"{source.name} 已损坏（{verdict}），未恢复")
        try:
            rows = reader.execute("SELECT version_num FROM alembic_version").fetchall()
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"{source.name} 不是本系统的数据库备份（没有数据库版本记录），未恢复") from exc
    finally:
        reader.close()
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    known = {script.revision for script in ScriptDirectory.from_config(config).walk_revisions()}
    revisions = {row[0] for row in rows}
    if not revisions or not revisions <= known:
        raise BackupError(f"{source.name} 的数据库版本（{', '.join(sorted(revisions)) or '无'}）本程序不认识，未恢复")


def _libpq_url(url: URL) -> str:
    # libpq knows postgresql://, not SQLAlchemy's driver suffix; the password goes in the environment, not
    # on a command line every user of the machine can read.
    return url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)


def _run(command: list[str], url: URL) -> None:
    if shutil.which(command[0]) is None:
        raise BackupError(f"找不到 {command[0]}：请安装 PostgreSQL 客户端工具（postgresql-client）后重试")
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    completed = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise BackupError(f"{command[0]} 失败（退出码{completed.returncode}）：{completed.stderr.strip()[-500:]}")
