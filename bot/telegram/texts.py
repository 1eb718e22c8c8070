"""What the Telegram front-end itself says (the dialogue's replies live in domain.yml)."""

from __future__ import annotations

SORRY = "抱歉，刚才出了点问题，请稍后再试。如果着急，可以直接打电话给供货联系人。"
BUSY = "系统繁忙，请稍后再试。"
TOO_FAST = "您发送得太快了，请稍等片刻再发。"
NOT_TEXT = "我只能看懂文字消息。请直接打字告诉我，比如“哪里有土豆”。"
ADMIN_ONLY = "这个功能只对县级管理员开放。"
CONTACT_OR_ADMIN_ONLY = "只有乡镇（村）供货联系人和县级管理员可以上传供应目录。请先用邀请码登记：/register 邀请码"
REGISTER_USAGE = "请在 /register 后面加上县商务委给您的邀请码，例如：/register ABCD234567"
INVITE_USAGE = (
    "用法：\n/invite contact 龙角镇 [张家村] —— 乡镇（村）供货联系人\n"
    "/invite lead 县教委 —— 牵头单位联系人\n/invite admin —— 县级管理员"
)
FILE_TOO_BIG = "文件太大（超过20MB），请拆分后再发。"
FILE_TYPE = "请发送 .xlsx 或 .csv 格式的《供应目录》（附件1）表格。"
IMPORTING = "收到文件“{name}”，正在导入……"
EXPORTING = "正在导出全县供应目录……"
EXPORTED = "全县供应目录，共{count}条。"
REGISTERED = "登记成功！您现在是{scope}。发送 /help 看看能做什么。"
INVITED = "邀请码：{code}\n（{scope}，只能用一次，{expires}前有效）\n请对方在 Telegram 上向我发送：/register {code}"
CHOSEN = "👉 {title}"

# The command menu (set_my_commands): everyone's, and the extra ones in admins' chats.
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
)
