"""Help that fits the person: what buyers, supply contacts and county staff can do, with examples."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import FupinAction, who

BUYER_HELP = [
    "我可以帮您采购贫困户的农特产品：",
    "· 找产品：哪里有土豆 / 龙角镇有什么特产 / 蜂蜜多少钱一斤",
    "· 下单：我要买30斤土豆 / 给县医院食堂订150斤白菜，送货上门",
    "· 查订单：我的订单",
    "· 预订、认养：我要预订凤鸣镇的脐橙200斤 / 我要认养一头年猪",
    "· 工会额度（工会）：我们工会有120名会员 / 我们工会还剩多少额度",
    "· 中途不想要了：取消",
    "物流费用由采购单位（个人）自行承担，不向贫困户收取。",
]
CONTACT_HELP = [
    "作为供货联系人，您还可以：",
    "· 更新库存：土豆还剩两百斤 / 蜂蜜卖完了 / 新到300斤柑橘，三块五一斤",
    "· 改价格：把脐橙的价格改成4元/斤",
    "· 处理订单：我的订单（点按钮确认、拒绝、标记送达、收款），或说“XF…已送达”",
    "· 登记销售：今天卖给县医院食堂50斤土豆，一共150元",
    "· 看进度：这个季度卖了多少",
    "· 查库存记录：土豆的库存记录 / 看看蜂蜜的出入库记录",
    "· 预售：脐橙12月上市，预计5000斤，预订价3元一斤；收获后：脐橙实际收获4200斤",
    "· 告诉认养户：给认养户发：猪已经长到150斤了（可附照片）",
]
ADMIN_HELP = [
    "作为县里的管理员，您还可以：",
    "· 看全县进度：这个季度卖了多少 / 电商渠道完成多少了 / 龙角镇今年完成了多少",
    "· 处理任何订单，修改任何乡镇的库存和价格",
    "· 管理产品名称：把奇异果设为猕猴桃的别名 / 删除别名奇异果 / 把红心猕猴桃并入猕猴桃",
    "· 百企帮百村结对：把云阳县某某公司和龙角镇张家村结成帮扶对子",
    "· 贫困户受益：张家村今年哪些贫困户卖出了产品 / 全县有多少贫困户受益",
]


class ActionHelp(FupinAction):
    """Explain, with examples, what this person can do."""

    def name(self) -> str:
        return "action_help"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        with self.services.sessions() as session:
            identity = who(session, tracker)
        lines = list(BUYER_HELP)
        if identity.is_contact or identity.is_admin:
            lines += CONTACT_HELP
        if identity.is_admin:
            lines += ADMIN_HELP
        dispatcher.utter_message(text="\n".join(lines))
        return []
