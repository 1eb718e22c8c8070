"""What is reported (附件2 or 附件3) and how a submission came in; the values are the ones stored."""

from __future__ import annotations

import enum


class ReportKind(str, enum.Enum):
    """A quarterly form: a township's sales (附件2) or a lead unit's purchases (附件3)."""

    SALES = "sales"  # 附件2, reported by a township
    PURCHASES = "purchases"  # 附件3, reported by a lead unit

    def __str__(self) -> str:
        return self.value

    @property
    def form_name(self) -> str:
        """The form's name in the plan (附件2, 附件3)."""
        return "附件2" if self is ReportKind.SALES else "附件3"

    @classmethod
    def parse(cls, value: str) -> ReportKind:
        """The kind a stored or given value names; ValueError for any other value."""
        try:
            return cls(value)
        except ValueError:
            raise ValueError(f"unknown report kind {value!r}") from None


class SubmissionSource(str, enum.Enum):
    """How a form was submitted: the 确认报送 button in chat, or a filled file."""

    CHAT = "chat"
    FILE = "file"

    def __str__(self) -> str:
        return self.value

    @property
    def label(self) -> str:
        """The source in Chinese (对话, 文件)."""
        return "对话" if self is SubmissionSource.CHAT else "文件"

    @classmethod
    def parse(cls, value: str) -> SubmissionSource:
        """The source a stored or given value names; ValueError for any other value."""
        try:
            return cls(value)
        except ValueError:
            raise ValueError(f"unknown submission source {value!r}") from None


class VersionSource(str, enum.Enum):
    """How a report version came in: a file imported, or an older version restored."""

    FILE = "file"
    RESTORE = "restore"

    def __str__(self) -> str:
        return self.value

    @classmethod
    def parse(cls, value: str) -> VersionSource:
        """The source a stored or given value names; ValueError for any other value."""
        try:
            return cls(value)
        except ValueError:
            raise ValueError(f"unknown version source {value!r}") from None
