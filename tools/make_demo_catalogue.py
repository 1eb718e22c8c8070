"""Regenerate fupin/data/demo_catalogue.xlsx, the demo 附件1 file (run by hand after editing ROWS)."""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from fupin.catalog.attachment1 import ATTACHMENT1, SEED_HEADERS

OUT = Path(__file__).resolve().parent.parent / "fupin" / "data" / "demo_catalogue.xlsx"
HEADERS = SEED_HEADERS
SHOP = "https://tichengwangshi.example/shop/"
# Real townships and villages (NBS codes in fupin/data); placeholder names in the plan's style.
ROWS: list[tuple[str, ...]] = [
    ("云阳县龙角镇张家村", "王某某", "土豆", "2000斤", "1.5元/斤", "送货上门、上门自提", "", "李xx 17723635558", ""),
    ("云阳县龙角镇张家村", "陈某某", "红薯", "1500斤", "1.2元/斤", "送货上门、上门自提", "", "李xx 17723635558", ""),
    (
        "云阳县龙角镇高家村",
        "刘某某",
        "蜂蜜",
        "300斤",
        "60元/斤",
        "电商、送货上门",
        SHOP + "longjiao",
        "高xx 17723630101",
        "中蜂土蜂蜜",
    ),
    (
        "云阳县龙角镇永富村",
        "龙角镇永富村腊肉专业合作社（涉及贫困户15户）",
        "腊肉",
        "800斤",
        "45元/斤",
        "送货上门",
        "",
        "周xx 17723630102",
        "柴火烟熏",
    ),
    (
        "云阳县泥溪镇鱼鳞村",
        "黄某某",
        "黑木耳",
        "200斤",
        "50元/斤",
        "电商、送货上门、上门自提",
        SHOP + "nixi",
        "谭xx 17723630201",
        "青杠树黑木耳",
    ),
    (
        "云阳县泥溪镇协合村",
        "泥溪镇协合村黑木耳专业合作社（涉及贫困户23户）",
        "黑木耳",
        "500斤",
        "48元/斤",
        "电商、送货上门",
        SHOP + "nixi",
        "向xx 17723630202",
        "地理标志产品",
    ),
    ("云阳县泥溪镇石蛋村", "谭某某", "土鸡", "80只", "120元/只", "上门自提", "", "石xx 17723630203", "散养一年以上"),
    ("云阳县泥溪镇长柏村", "向某某", "土鸡蛋", "3000个", "1.5元/个", "送货上门、上门自提", "", "柏xx 17723630204", ""),
    ("云阳县泥溪镇桐林社区", "冉某某", "土豆", "1000斤", "1.6元/斤", "送货上门", "", "桐xx 17723630205", ""),
    (
        "云阳县故陵镇红椿村",
        "魏某某",
        "脐橙（纽荷尔）",
        "5000斤",
        "3.5元/斤",
        "电商、送货上门",
        SHOP + "guling",
        "魏xx 17723630301",
        "",
    ),
    ("云阳县故陵镇高坪村", "杨某某", "柑橘", "3000斤", "2.8元/斤", "送货上门、上门自提", "", "杨xx 17723630302", ""),
    ("云阳县红狮镇中坪村", "彭某某", "核桃", "600斤", "15元/斤", "送货上门", "", "彭xx 17723630401", ""),
    (
        "云阳县红狮镇梅柏村",
        "余某某",
        "花椒",
        "200斤",
        "40元/斤",
        "电商、送货上门",
        SHOP + "hongshi",
        "余xx 17723630402",
        "青花椒",
    ),
    ("云阳县农坝镇红梁村", "熊某某", "魔芋", "1000斤", "3元/斤", "送货上门", "", "熊xx 17723630501", ""),
    (
        "云阳县农坝镇幸福村",
        "农坝镇幸福村榨油合作社（涉及贫困户9户）",
        "菜籽油",
        "500斤",
        "12元/斤",
        "送货上门、上门自提",
        "",
        "付xx 17723630502",
        "压榨菜籽油",
    ),
    (
        "云阳县南溪镇花果村",
        "郑某某",
        "茶叶",
        "100斤",
        "200元/斤",
        "电商、送货上门",
        SHOP + "nanxi",
        "郑xx 17723630601",
        "明前绿茶",
    ),
    ("云阳县南溪镇花果村", "孙某某", "香菇", "400斤", "12元/斤", "送货上门", "", "郑xx 17723630601", ""),
    (
        "云阳县江口镇",
        "牟某某",
        "土豆",
        "1200斤",
        "1.5元/斤",
        "上门自提",
        "",
        "牟xx 17723630701",
        "镇农产品集散中心自提",
    ),
    ("云阳县双土镇长保村", "冯某某", "洋芋", "800斤", "1.4元/斤", "送货上门", "", "冯xx 17723630801", ""),
    ("云阳县平安镇红关村", "邓某某", "红薯", "2000斤", "1.1元/斤", "送货上门、上门自提", "", "邓xx 17723630901", ""),
    (
        "云阳县清水土家族乡磁溪村",
        "田某某",
        "蜂蜜",
        "150斤",
        "70元/斤",
        "电商、送货上门",
        SHOP + "qingshui",
        "田xx 17723631001",
        "土家老蜂蜜",
    ),
    ("云阳县后叶镇杉湾村", "朱某某", "土鸡", "50只", "110元/只", "送货上门", "", "朱xx 17723631101", ""),
    ("云阳县凤鸣镇黄龙村", "黄某某", "脐橙", "4000斤", "3元/斤", "送货上门、上门自提", "", "黄xx 17723631201", ""),
    ("云阳县蔈草镇石笋村", "谢某某", "核桃", "300斤", "16元/斤", "送货上门", "", "谢xx 17723631301", ""),
    ("云阳县上坝乡药场村", "唐某某", "山羊", "30只", "1500元/只", "上门自提", "", "唐xx 17723631401", "活羊"),
    ("云阳县宝坪镇桂坪村", "蒋某某", "玉米", "3000斤", "1.3元/斤", "送货上门、上门自提", "", "蒋xx 17723631501", ""),
    ("云阳县宝坪镇桂坪村", "蒋某某", "白菜", "2000斤", "0.8元/斤", "送货上门", "", "蒋xx 17723631501", ""),
    ("云阳县龙角镇张家村", "王某某", "白菜", "1000斤", "0.9元/斤", "送货上门、上门自提", "", "李xx 17723635558", ""),
]


def main() -> None:
    """Write the demo file in the layout townships use: merged title, meta row, wrapped header, notes."""
    book = Workbook()
    sheet = book.active
    sheet.title = "附件1"
    sheet["A1"] = "附件1"
    sheet["A2"] = ATTACHMENT1.title
    sheet.merge_cells("A2:J2")
    sheet["A2"].font = Font(bold=True, size=14)
    sheet["A3"] = (
        "填写单位：云阳县农业农村委（演示数据）    填写人：张xx    联系电话：023-55123456    填写日期：2026-11-01"
    )
    sheet.merge_cells("A3:J3")
    for col, header in enumerate(HEADERS, start=1):
        cell = sheet.cell(row=4, column=col, value=header)
        cell.alignment = Alignment(wrap_text=True)
    for number, row in enumerate(ROWS, start=1):
        sheet.append([number, *row])
    # Rows 5-6 (张家村) share the region cell, as townships' files often merge it.
    sheet["B6"] = None
    sheet.merge_cells("B5:B6")
    notes_row = sheet.max_row + 2
    sheet.cell(row=notes_row, column=1, value=ATTACHMENT1.notes)
    sheet.merge_cells(start_row=notes_row, start_column=1, end_row=notes_row, end_column=10)
    book.save(OUT)
    print(f"wrote {OUT} with {len(ROWS)} rows")


if __name__ == "__main__":
    main()
