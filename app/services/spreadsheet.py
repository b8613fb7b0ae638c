"""Reading an uploaded table (XLSX or CSV) safely, and writing a small XLSX: what the enterprise import and its
downloads need. A file that is neither is refused (415), one too large (413); cell values come back as stripped
strings (numbers as their digits), a formula as its text beginning with "=" (the caller refuses it).

Every CSV and XLSX the product writes passes its cells through `safe_cell` (issue 17: a name beginning with "=" must
not become a live formula on a reviewer's machine); `csv_bytes` and `xlsx`/`inert_row` are the only writers."""
import csv
import io
import zipfile
from collections.abc import Iterator

from openpyxl import Workbook, load_workbook

from app.errors import TooLarge, UnsupportedType

MAX_BYTES = 25 * 1024 * 1024
MAX_UNZIPPED = 250 * 1024 * 1024  # an XLSX is a zip: a small file may expand a thousandfold (a zip bomb)
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


# what a spreadsheet program reads as the start of a formula (OWASP "CSV injection"); tab and CR as well, since some
# programs strip them before looking at the next character
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """The value to write into a cell: text beginning like a formula gets a leading single quote, shown as text by
    every spreadsheet program; numbers, None and other text are returned unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def inert_row(ws, values) -> None:
    """Append a row to an openpyxl sheet with every text cell neutralised and stored as a string (openpyxl would
    otherwise store any text beginning with "=" as a formula)."""
    ws.append([safe_cell(v) for v in values])
    for cell in ws[ws.max_row]:
        if isinstance(cell.value, str):
            cell.data_type = "s"


def csv_bytes(header: list[str], body) -> bytes:
    """UTF-8 CSV with a BOM (Excel then opens it correctly), every cell through `safe_cell`."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow([safe_cell(v) for v in header])
    for values in body:
        writer.writerow([safe_cell(v) for v in values])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def kind_of(data: bytes, filename: str = "") -> str:
    """"xlsx" or "csv"; anything else is refused."""
    if len(data) > MAX_BYTES:
        raise TooLarge(f"the file is larger than {MAX_BYTES // (1024 * 1024)} MB",
                       errors={"file": "too_large"})
    if data[:4] == b"PK\x03\x04":
        return "xlsx"
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise UnsupportedType("an old Excel file (.xls): save it as .xlsx or .csv", errors={"file": "xls"})
    if not data.strip() or b"\x00" in data[:65536] or filename.lower().endswith((".xlsx", ".xls")):
        raise UnsupportedType("not a spreadsheet: upload an .xlsx or .csv file", errors={"file": "not_spreadsheet"})
    return "csv"


def rows(data: bytes, filename: str = "") -> Iterator[list[str]]:
    """The rows of the first sheet (XLSX) or of the file (CSV, UTF-8 with or without BOM, or GB18030 as Excel on
    a Chinese system saves it)."""
    if kind_of(data, filename) == "xlsx":
        return _xlsx_rows(data)
    return _csv_rows(data)


def _xlsx_rows(data: bytes) -> Iterator[list[str]]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            if sum(i.file_size for i in zf.infolist()) > MAX_UNZIPPED:
                raise TooLarge("the spreadsheet expands to more than 250 MB", errors={"file": "too_large"})
            if "xl/workbook.xml" not in zf.namelist():
                raise UnsupportedType("not a spreadsheet: upload an .xlsx or .csv file",
                                      errors={"file": "not_spreadsheet"})
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise UnsupportedType("not a readable .xlsx file", errors={"file": str(exc)[:200]}) from None
    ws = wb.worksheets[0]
    try:
        for values in ws.iter_rows(values_only=True):
            yield [_cell(v) for v in values]
    finally:
        wb.close()


def _csv_rows(data: bytes) -> Iterator[list[str]]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise UnsupportedType("the CSV file is neither UTF-8 nor GB18030 text", errors={"file": "encoding"})
    try:
        for values in csv.reader(io.StringIO(text, newline="")):
            yield [v.strip() for v in values]
    except csv.Error as exc:
        raise UnsupportedType(f"not a readable CSV file: {exc}", errors={"file": "csv"}) from None


def xlsx(sheet: str, header: list[str], body: list[list], widths: list[int] | None = None) -> bytes:
    """A one-sheet workbook: the header row in bold, then the rows (all written as text: codes keep their zeros)."""
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    inert_row(ws, header)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for values in body:
        inert_row(ws, ["" if v is None else str(v) for v in values])
    for i, width in enumerate(widths or []):
        ws.column_dimensions[chr(ord("A") + i)].width = width
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            cell.number_format = "@"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
