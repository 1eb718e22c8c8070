"""One settings object, read from environment variables with embedded defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from zoneinfo import ZoneInfo

from fupin.values import UNION_BUDGET_PER_MEMBER_FEN

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TIMEZONE = ZoneInfo("Asia/Shanghai")
DEFAULT_WEB_PORT = 8080


def _default_database_url() -> str:
    return f"sqlite:///{PROJECT_ROOT / 'var' / 'fupin.db'}"


def _int_list(raw: str) -> tuple[int, ...]:
    return tuple(int(part) for part in raw.replace(";", ",").split(",") if part.strip())


def _clock(raw: str) -> time:
    hour, _, minute = raw.strip().partition(":")
    return time(int(hour), int(minute or 0))


@dataclass(frozen=True)
class Settings:
    """Runtime configuration; build it with `Settings.from_env()` in entry points."""

    database_url: str = field(default_factory=_default_database_url)
    telegram_bot_token: str = field(default="", repr=False)
    telegram_base_url: str = "https://api.telegram.org/bot"
    telegram_base_file_url: str = "https://api.telegram.org/file/bot"
    telegram_webhook_url: str = ""
    telegram_webhook_secret: str = field(default="", repr=False)
    telegram_webhook_listen: str = "127.0.0.1"
    telegram_webhook_port: int = 8443
    admin_telegram_ids: tuple[int, ...] = ()
    # Empty: the custom actions run inside the bot; set it to use a separately started action server
    # (`python -m bot actions`, e.g. http://127.0.0.1:5055/webhook).
    action_endpoint_url: str = ""
    # The separate action server: where it listens, and the shared secret it requires of every call
    # (the bot sends it when ACTION_ENDPOINT_URL is set; the server refuses to start without it).
    action_server_host: str = "127.0.0.1"
    action_server_port: int = 5055
    action_server_token: str = field(default="", repr=False)
    # Empty: the Rasa agent runs inside the bot; set it (http://host:5005) to talk to a Rasa server's REST channel.
    rasa_server_url: str = ""
    # Rasa's conversation store: empty = SQL tracker store in DATABASE_URL; "memory" = in-memory (lost on restart).
    tracker_store_url: str = ""
    # Rasa's lock store: empty = in-memory (one process); redis://host:6379/0 when several workers share conversations.
    lock_store_url: str = ""
    rate_limit_burst: int = 10
    rate_limit_per_minute: int = 30
    push_interval_seconds: float = 1.0
    # NLU parses of repeated short texts kept per process (bot/dialogue/parse_cache.py); 0 = none kept.
    parse_cache_size: int = 2048
    model_dir: Path = PROJECT_ROOT / "models"
    log_dir: Path = PROJECT_ROOT / "var" / "logs"
    log_level: str = "INFO"
    # Reminders (fupin/outreach/reminders/, bot/scheduler.py); times of day are Asia/Shanghai.
    reminders_enabled: bool = True
    reminder_time: time = time(9, 0)
    report_reminder_days: tuple[int, ...] = (10, 3, 1)  # days before each quarter's report deadline
    overview_day: int = 10  # day of each quarter's first month for the previous quarter's overview
    catalogue_stale_days: int = 30
    payment_overdue_days: int = 30
    payment_reminder_weekday: int = 1  # ISO weekday of the unpaid-order reminders: 1 = Monday
    payment_lead_day: int = 1  # day of each month when lead units get their buyers' unpaid orders
    # A quality complaint not answered or closed this many days after filing is reminded daily to its handler
    # (or, not yet taken up, to the listing's supply contacts); 0 = no such reminder.
    complaint_remind_days: int = 3
    reminder_catch_up_hours: float = 24.0  # a reminder missed by longer than this is skipped, not sent late
    reminder_check_seconds: float = 60.0
    reminder_lease_seconds: float = 60.0
    scheduler_job_table: str = "scheduler_jobs"
    overview_dir: Path = PROJECT_ROOT / "var" / "overviews"
    # Days after a quarter's report deadline during which contacts may still send or correct its 附件2.
    report_grace_days: int = 15
    # The web console (web/): where it listens (nginx in front), and the address people open, for sign-in links.
    # WEB_PORT empty/0: `python -m bot run` does not serve it; `python -m bot web` then uses DEFAULT_WEB_PORT.
    web_listen: str = "127.0.0.1"
    web_port: int = 0
    web_public_url: str = ""  # e.g. https://fupin.example.gov.cn; empty: http://WEB_LISTEN:port
    # Conversations and closed orders' buyer phones are purged when older than this (monthly job); 0 = never.
    privacy_retention_months: int = 24
    # Orders (fupin/orders/rules.py): how long a read-back may be confirmed, how long a supply contact has to
    # confirm an order before it expires, and how much one buyer may hold unconfirmed.
    readback_ttl_minutes: int = 30
    order_confirm_days: int = 3
    max_open_orders_per_buyer: int = 3
    max_share_of_listing_percent: int = 50
    # A buying unit with an order delivered this many days ago and still unpaid may place no new order until
    # it pays or an admin lifts the hold (防止拖欠货款); 0 = no hold.
    payment_hold_days: int = 60
    # A union's (工会) yearly budget for poor households' products per member, in 元 (the plan: 人均500元).
    union_budget_per_member_yuan: int = UNION_BUDGET_PER_MEMBER_FEN // 100

    @property
    def union_budget_per_member_fen(self) -> int:
        """The union budget per member in fen."""
        return self.union_budget_per_member_yuan * 100

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
            telegram_webhook_listen=env.get("TELEGRAM_WEBHOOK_LISTEN") or defaults.telegram_webhook_listen,
            telegram_webhook_port=int(env.get("TELEGRAM_WEBHOOK_PORT") or defaults.telegram_webhook_port),
            admin_telegram_ids=_int_list(env.get("ADMIN_TELEGRAM_IDS", "")),
            action_endpoint_url=env.get("ACTION_ENDPOINT_URL", ""),
            action_server_host=env.get("ACTION_SERVER_HOST") or defaults.action_server_host,
            action_server_port=int(env.get("ACTION_SERVER_PORT") or defaults.action_server_port),
            action_server_token=env.get("ACTION_SERVER_TOKEN", ""),
            rasa_server_url=env.get("RASA_SERVER_URL", ""),
            tracker_store_url=env.get("TRACKER_STORE_URL", ""),
            lock_store_url=env.get("LOCK_STORE_URL", ""),
            rate_limit_burst=int(env.get("RATE_LIMIT_BURST") or defaults.rate_limit_burst),
            rate_limit_per_minute=int(env.get("RATE_LIMIT_PER_MINUTE") or defaults.rate_limit_per_minute),
            push_interval_seconds=float(env.get("PUSH_INTERVAL_SECONDS") or defaults.push_interval_seconds),
            parse_cache_size=int(env.get("PARSE_CACHE_SIZE") or defaults.parse_cache_size),
            model_dir=Path(env["MODEL_DIR"]) if env.get("MODEL_DIR") else defaults.model_dir,
            log_dir=Path(env["LOG_DIR"]) if env.get("LOG_DIR") else defaults.log_dir,
            log_level=env.get("LOG_LEVEL") or defaults.log_level,
            reminders_enabled=env.get("REMINDERS_ENABLED", "1").strip().lower() not in ("0", "false", "no", "off"),
            reminder_time=_clock(env["REMINDER_TIME"]) if env.get("REMINDER_TIME") else defaults.reminder_time,
            report_reminder_days=_int_list(env["REPORT_REMINDER_DAYS"])
            if env.get("REPORT_REMINDER_DAYS")
            else defaults.report_reminder_days,
            overview_day=int(env.get("OVERVIEW_DAY") or defaults.overview_day),
            catalogue_stale_days=int(env.get("CATALOGUE_STALE_DAYS") or defaults.catalogue_stale_days),
            payment_overdue_days=int(env.get("PAYMENT_OVERDUE_DAYS") or defaults.payment_overdue_days),
            payment_reminder_weekday=int(env.get("PAYMENT_REMINDER_WEEKDAY") or defaults.payment_reminder_weekday),
            payment_lead_day=int(env.get("PAYMENT_LEAD_DAY") or defaults.payment_lead_day),
            complaint_remind_days=int(env.get("COMPLAINT_REMIND_DAYS") or defaults.complaint_remind_days),
            reminder_catch_up_hours=float(env.get("REMINDER_CATCH_UP_HOURS") or defaults.reminder_catch_up_hours),
            reminder_check_seconds=float(env.get("REMINDER_CHECK_SECONDS") or defaults.reminder_check_seconds),
            reminder_lease_seconds=float(env.get("REMINDER_LEASE_SECONDS") or defaults.reminder_lease_seconds),
            scheduler_job_table=env.get("SCHEDULER_JOB_TABLE") or defaults.scheduler_job_table,
            overview_dir=Path(env["OVERVIEW_DIR"]) if env.get("OVERVIEW_DIR") else defaults.overview_dir,
            report_grace_days=int(env.get("REPORT_GRACE_DAYS") or defaults.report_grace_days),
            web_listen=env.get("WEB_LISTEN") or defaults.web_listen,
            web_port=int(env.get("WEB_PORT") or defaults.web_port),
            web_public_url=env.get("WEB_PUBLIC_URL", "").rstrip("/"),
            privacy_retention_months=int(env.get("PRIVACY_RETENTION_MONTHS") or defaults.privacy_retention_months),
            readback_ttl_minutes=int(env.get("READBACK_TTL_MINUTES") or defaults.readback_ttl_minutes),
            order_confirm_days=int(env.get("ORDER_CONFIRM_DAYS") or defaults.order_confirm_days),
            max_open_orders_per_buyer=int(env.get("MAX_OPEN_ORDERS_PER_BUYER") or defaults.max_open_orders_per_buyer),
            max_share_of_listing_percent=int(
                env.get("MAX_SHARE_OF_LISTING_PERCENT") or defaults.max_share_of_listing_percent
            ),
            payment_hold_days=int(env.get("PAYMENT_HOLD_DAYS") or defaults.payment_hold_days),
            union_budget_per_member_yuan=int(
                env.get("UNION_BUDGET_PER_MEMBER_YUAN") or defaults.union_budget_per_member_yuan
            ),
        )

    def web_base_url(self, port: int | None = None) -> str:
        """The console's address as people open it (WEB_PUBLIC_URL, else the listening address)."""
        return self.web_public_url or f"http://{self.web_listen}:{port or self.web_port or DEFAULT_WEB_PORT}"
