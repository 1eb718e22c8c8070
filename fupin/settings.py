"""One settings object, read from environment variables with embedded defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TIMEZONE = ZoneInfo("Asia/Shanghai")


def _default_database_url() -> str:
    return f"sqlite:///{PROJECT_ROOT / 'var' / 'fupin.db'}"


def _int_list(raw: str) -> tuple[int, ...]:
    return tuple(int(part) for part in raw.replace(";", ",").split(",") if part.strip())


@dataclass(frozen=True)
class Settings:
    """Runtime configuration; build it with `Settings.from_env()` in entry points."""

    database_url: str = field(default_factory=_default_database_url)
    telegram_bot_token: str = field(default="", repr=False)
    telegram_base_url: str = "https://api.telegram.org/bot"
    telegram_base_file_url: str = "https://api.telegram.org/file/bot"
    telegram_webhook_url: str = ""
    telegram_webhook_secret: str = field(default="", repr=False)
    admin_telegram_ids: tuple[int, ...] = ()
    action_endpoint_url: str = "http://127.0.0.1:5055/webhook"
    model_dir: Path = PROJECT_ROOT / "models"
    log_dir: Path = PROJECT_ROOT / "var" / "logs"
    log_level: str = "INFO"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        """Read every setting from the environment, falling back to the defaults."""
        env = dict(os.environ if env is None else env)
        defaults = cls()
        return cls(
            database_url=env.get("DATABASE_URL") or defaults.database_url,
            telegram_bot_token=env.get("TELEGRAM_BOT_TOKEN", ""),
            telegram_base_url=env.get("TELEGRAM_BASE_URL") or defaults.telegram_base_url,
            telegram_base_file_url=env.get("TELEGRAM_BASE_FILE_URL") or defaults.telegram_base_file_url,
            telegram_webhook_url=env.get("TELEGRAM_WEBHOOK_URL", ""),
            telegram_webhook_secret=env.get("TELEGRAM_WEBHOOK_SECRET", ""),
            admin_telegram_ids=_int_list(env.get("ADMIN_TELEGRAM_IDS", "")),
            action_endpoint_url=env.get("ACTION_ENDPOINT_URL") or defaults.action_endpoint_url,
            model_dir=Path(env["MODEL_DIR"]) if env.get("MODEL_DIR") else defaults.model_dir,
            log_level=env.get("LOG_LEVEL") or defaults.log_level,
        )
