"""How big a spreadsheet may be before it is read: every limit in one place, with why it is that number.

A real 附件1 or 附件2 is a few hundred rows of short cells, a few hundred KB at most. The limits are far above
that and far below what would stall the bot: the whole import runs while Telegram and the dialogue wait
for the interpreter, so a file that takes minutes to read is a file that stops the service.
"""

from __future__ import annotations

# What a Telegram bot may download (20 MB), and far more than any township's form.
MAX_FILE_BYTES = 20 * 1024 * 1024
# A township has a few hundred poor households; a county-wide 附件2 a few thousand sales a quarter.
MAX_ROWS = 100_000
# Cells right of this column are never read: no form is that wide, and one stray cell in column XFD
# would otherwise widen every row to 16,384 cells (a 5 KB file taking gigabytes).
MAX_COLUMNS = 200
# Cells kept in memory over all sheets (each a Python string): 2,000,000 is about 20 columns at the row
# limit, a few hundred MB at worst, and a hundred times the largest form seen.
MAX_CELLS = 2_000_000
# Merged ranges are copied cell by cell; a form merges its title and a few headers, tens of ranges.
MAX_MERGED_RANGES = 10_000
# One cell's text: a 附件1 cell holds a name, an address or a remark (tens of characters); the 备注 row
# printed under the form is the longest (about 250). 10,000 leaves room and keeps every regex cheap.
MAX_CELL_CHARS = 10_000
# Uncompressed size of one member of the .xlsx zip, and of all of them: openpyxl reads the shared strings
# and the styles whole, and the sheet XML is read whole for merges and formulas. The zip reader never
# inflates a member past the size its header declares (the CRC check fails first), so checking the
# declared sizes before reading is enough.
MAX_MEMBER_BYTES = 50 * 1024 * 1024
MAX_UNCOMPRESSED_BYTES = 100 * 1024 * 1024
# Sheet XML compresses about 10:1, a sheet of identical styled blanks a few hundred to one; a zip bomb
# thousands to one. Only members larger than the floor are judged: a tiny member can have any ratio.
MAX_COMPRESSION_RATIO = 500
COMPRESSION_RATIO_FLOOR_BYTES = 1024 * 1024
# A workbook has a dozen or so members (sheets, styles, strings, rels); thousands are no form.
MAX_MEMBERS = 1_000
