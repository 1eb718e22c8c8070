"""The Chinese texts about union budgets: the chat's answers, the overview's lines, the command line's list."""

from __future__ import annotations

from collections.abc import Sequence

from fupin.reporting.formatting import yuan
from fupin.unions.budget import UnionBudget
from fupin.values import format_yuan

# What counts, in one sentence (the plan's 进家庭: 到帮扶的镇村或深度贫困镇（村）直购).
WHAT_COUNTS = (
    "按方案，工会经费用于直购帮扶村或深度贫困镇村的农特产品："
    "结对帮扶村是县里登记的本工会结对帮扶的村，深度贫困村是县里认定的深度贫困镇（村）。"
)


def share(budget: UnionBudget) -> str:
    """The completion as a percentage with one decimal (20.0%), or - without a budget."""
    ratio = budget.ratio
    return "-" if ratio is None else f"{ratio * 100:.1f}%"


def per_member(budget: UnionBudget) -> str:
    """The amount per member as people say it (500元)."""
    return f"{format_yuan(budget.per_member_fen)}元"


def budget_reply(budget: UnionBudget) -> str:
    """The answer to 我们工会还剩多少额度: spent, budget, remaining, the others apart, what counts."""
    lines = [f"{budget.name}{budget.year}年消费扶贫额度："]
    if budget.members is None:
        lines.append(f"· 还没有登记会员人数，额度按每名会员{per_member(budget)}计算。请说“我们工会有120名会员”登记。")
    else:
        lines.append(f"· 年度额度：{yuan(budget.budget_fen)}（会员{budget.members}人 × {per_member(budget)}）")
    lines.append(f"· 已用：{yuan(budget.counted_fen)}" + (f"，完成{share(budget)}" if budget.budget_fen else ""))
    if budget.counted_fen:
        lines.append(f"　其中结对帮扶村{yuan(budget.paired_fen)}，深度贫困镇村{yuan(budget.deep_fen)}")
    if budget.budget_fen:
        lines.append(f"· 还剩：{yuan(budget.remaining_fen)}")
    if budget.other_fen:
        lines.append(f"另外购买其他村贫困户产品{yuan(budget.other_fen)}，单独列出，不计入额度。")
    lines.append(WHAT_COUNTS)
    return "\n".join(lines)


def members_reply(budget: UnionBudget, previous: int | None) -> str:
    """What a member count registered in chat changed, and the budget it gives."""
    change = f"（原来是{previous}人）" if previous is not None and previous != budget.members else ""
    return (
        f"已登记：{budget.name}会员{budget.members}人{change}。"
        f"{budget.year}年消费扶贫额度为{yuan(budget.budget_fen)}（每名会员{per_member(budget)}），"
        f"已用{yuan(budget.counted_fen)}，还剩{yuan(budget.remaining_fen)}。\n"
        "人数有误的话，说“工会会员人数改成85人”即可更正；说“我们工会还剩多少额度”可以随时查看。"
    )


def completion_line(budget: UnionBudget) -> str:
    """One union's completion: counted / budget / percentage (others apart)."""
    if budget.members is None:
        head = f"· {budget.name}：{yuan(budget.counted_fen)} / 未登记会员人数"
    else:
        head = f"· {budget.name}：{yuan(budget.counted_fen)} / {yuan(budget.budget_fen)} / {share(budget)}"
    return head + (f"（另购其他村产品{yuan(budget.other_fen)}）" if budget.other_fen else "")


def overview_lines(budgets: Sequence[UnionBudget]) -> list[str]:
    """The overview's union part under 进家庭: each registered union's completion of the year to date."""
    shown = [b for b in budgets if b.members is not None]
    if not shown:
        return []
    below = sum(1 for b in shown if b.below_half)
    return [
        f"进家庭·工会额度（本年累计用于结对帮扶村和深度贫困镇村 / 年度额度 / 完成率，人均{per_member(shown[0])}）："
        f"共{len(shown)}个工会，{below}个未过半：",
        *(completion_line(b) for b in shown),
    ]
