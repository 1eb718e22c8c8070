"""What the Telegram front-end itself says (the dialogue's replies live in domain/)."""

from __future__ import annotations

SORRY = "抱歉，刚才出了点问题，请稍后再试。如果着急，可以直接打电话给供货联系人。"
BUSY = "系统繁忙，请稍后再试。"
TOO_FAST = "您发送得太快了，请稍等片刻再发。"
NOT_TEXT = "我只能看懂文字消息。请直接打字告诉我，比如“哪里有土豆”。"
UNKNOWN_COMMAND = "没有这个命令。可以直接打字告诉我，比如“哪里有土豆”；发送 /help 看看我能做什么。"
ADMIN_ONLY = "这个功能只对县级管理员开放。"
CONTACT_OR_ADMIN_ONLY = "只有乡镇（村）供货联系人和县级管理员可以上传供应目录。请先用邀请码登记：/register 邀请码"
REGISTER_USAGE = "请在 /register 后面加上县商务委给您的邀请码，例如：/register ABCD234567"
INVITE_USAGE = (
    "用法：\n/invite contact 龙角镇 [张家村] —— 乡镇（村）供货联系人\n"
    "/invite lead 县教委 —— 牵头单位联系人\n/invite market —— 县市场监管人员（处理质量投诉）\n"
    "/invite admin —— 县级管理员"
)
FILE_TOO_BIG = "文件太大（超过20MB），请拆分后再发。"
FILE_TYPE = "请发送 .xlsx 或 .csv 格式的《供应目录》（附件1）表格。"
IMPORTING = "收到文件“{name}”，正在导入……"
EXPORTING = "正在导出全县供应目录……"
EXPORTED = "全县供应目录，共{count}条。"
REGISTERED = "登记成功！您现在是{scope}。发送 /help 看看能做什么。"
INVITED = "邀请码：{code}\n（{scope}，只能用一次，{expires}前有效）\n请对方在 Telegram 上向我发送：/register {code}"
CHOSEN = "👉 {title}"
REVOKE_USAGE = "用法：/revoke 用户ID（对方的 Telegram 数字ID），收回其供货联系人、牵头单位联系人或管理员角色。"
REVOKED = "已收回用户 {user} 的{role}角色，现在只是采购方，不能再处理订单、库存和报表。"
REVOKED_LISTED = "注意：该用户在 ADMIN_TELEGRAM_IDS 中，请同时从配置中删除，否则重启后会恢复管理员身份。"
REVOKE_UNKNOWN = "没有找到用户 {user}。"
REVOKE_SELF = "不能收回自己的管理员角色。"

# Quarterly reports by chat (bot/telegram/reports.py).
QUARTER_EXAMPLES = "季度写成 2026Q4、2026年第4季度 或 上季度"
REPORT_USAGE = f"用法：/report [季度]，不写季度为本季度。{QUARTER_EXAMPLES}，例如 /report 上季度。"
REPORT_ADMIN_USAGE = (
    "用法：\n/report sales 季度 [乡镇] —— 附件2（不写乡镇则每个有销售的乡镇一个工作表）\n"
    "/report purchases 季度 [牵头单位] —— 附件3（不写则每个有采购的牵头单位一个工作表）\n"
    f"/report overview 季度 —— 总体情况表格和图表\n{QUARTER_EXAMPLES}；不写季度为本季度。"
)
REPORT_ONLY = "季度报表只对乡镇（村）供货联系人、牵头单位联系人和县级管理员开放。请先用邀请码登记：/register 邀请码"
REPORT_HINT_SALES = "核对无误请点“确认报送”。也可以下载附件2，补充、改正后把表格直接发回给我。"
REPORT_HINT_PURCHASES = "核对无误请点“确认报送”，需要表格请点“下载附件3”。"
SUBMIT_BUTTON = "确认报送"
FILE_BUTTON = "下载{form}"
REPORT_SUBMITTED = "✓ 已报送{reporter}{period}{form}：{rows}条，合计{amount}。{period}不再提醒报送{form}。"
REPORT_RESUBMITTED = "{reporter}{period}{form}此前{previous}。已按现在的记录更新报送：{rows}条，合计{amount}。"
REPORT_NOT_STARTED = "{period}还没有开始，不能报送。"
REPORT_BUTTON_STALE = "这个按钮已失效，请重新发送 /report。"
FORM_CAPTION_SALES = "{summary}\n可在表中补充、改正后直接把文件发回给我报送。"
ALL_TOWNSHIPS_CAPTION = (
    "云阳县各乡镇（街道）{period}附件2，每个有销售记录的乡镇一个工作表；已报送{done}个乡镇（街道）。"
)
ALL_LEAD_UNITS_CAPTION = "各牵头单位{period}附件3，每个有采购记录的牵头单位一个工作表；已报送{done}个牵头单位。"
OVERVIEW_CAPTION = "云阳县{period}消费扶贫总体情况（总体情况、各乡镇、牵头单位三个工作表）"
SALES_FILE_QUARTER_NAMED = "按文件说明中的季度导入：{period}。"
SALES_FILE_QUARTER_DEFAULT = (
    "文件说明中没有写季度，按本季度导入：{period}（其他季度请在发送文件时的说明里写明，如 {example}）。"
)
SALES_FILE_SUBMITTED = "{township}{period}附件2已报送，不再提醒。"

# The command menu (set_my_commands): everyone's, and the extra ones in admins' and contacts' chats.
PUBLIC_COMMANDS = (
    ("start", "开始：介绍和示例"),
    ("help", "我能做什么"),
    ("orders", "我的订单"),
    ("cancel", "取消当前操作"),
    ("register", "用邀请码登记为供货联系人"),
)
ADMIN_COMMANDS = (
    ("invite", "生成登记邀请码"),
    ("export", "导出全县供应目录"),
    ("revoke", "收回用户角色"),
    ("report", "季度报表：附件2、附件3、总体情况"),
)
# Added to the menu of a township's (village's) or lead unit's contact when they register.
CONTACT_COMMANDS = (("report", "季度报表：核对、报送、下载附件2/附件3"),)
