"""Quality complaints (质量投诉): a buyer complains about an order, its supply contacts or county market staff
handle it, and every change of its status is an event row.

`filing.file_complaint` opens one (待处理); `handling` moves it along (受理 → 处理中, 答复 → 已解决, the buyer's
确认 → 已结案 or 升级 → 已升级, market staff's 结案 → 已结案); `pushes` writes what people are told into the outbox
in the same transaction; `queries` lists complaints and counts them for the quarterly overview. Every function
takes a Session: the caller owns the transaction. Knows nothing of Rasa, Telegram or the web.
"""
