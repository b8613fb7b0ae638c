"""Turning a document template into DOCX and PDF (issue 19 part 3).

A template (bpmn/documents/<key>.txt, then its versions in `document_templates`) is Jinja text rendered in Jinja's
sandbox (an administrator's text may read the values given, never call into Python) with undefined names refused,
then read line by line:

    # text      the title (centred, bold)            ## text   a heading line (bold, left)
    >> text     right-aligned (issuer, date)          << text   a line without first-line indent (salutation)
    [[名单]]    the document's table (its columns are the kind's, see services/documents.py)
    [[横向]]    landscape pages (the summary table)   other     a body paragraph, first line indented two characters
    blank lines are dropped.

DOCX goes through python-docx (the file to edit and stamp); PDF through fpdf2 with a Chinese font embedded (a
subset of Noto Serif/Sans CJK or WenQuanYi, found on the machine); where no such font is installed, reportlab with
the standard CID font STSong-Light, which needs no font file (the reader supplies the glyphs)."""
import io
import os
import re
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

from jinja2 import StrictUndefined, TemplateError
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment

from app.errors import Invalid

TABLE, LANDSCAPE = "[[名单]]", "[[横向]]"
FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
)
# the fonts of official documents (GB/T 9704-2012): Word substitutes where one is not installed
TITLE_FONT, HEADING_FONT, BODY_FONT = "方正小标宋简体", "黑体", "仿宋_GB2312"
_ENV = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)


def chinese_date(d: date) -> str:
    """2025年8月1日 (no leading zeros, as official documents write dates)."""
    return f"{d.year}年{d.month}月{d.day}日"


@dataclass
class Table:
    headers: list[str]
    rows: list[list[str]]
    widths: list[float]  # relative


@dataclass
class Layout:
    landscape: bool = False
    blocks: list[tuple[str, str]] = field(default_factory=list)  # (title|heading|right|plain|para|table, text)


def fill(body: str, context: dict) -> str:
    """The template's text with its values; a syntax error or an unknown name is Invalid naming the line."""
    try:
        return _ENV.from_string(body).render(**context)
    except TemplateError as exc:
        line = getattr(exc, "lineno", None) or _template_line(exc)
        where = f"第{line}行：" if line else ""
        text = str(exc.message or exc)
        m = re.fullmatch(r"'([^']+)' is undefined", text)
        if m:
            text = f"没有名为 {m.group(1)} 的值（可用的值见页面说明）"
        elif isinstance(exc, SecurityError):
            text = f"模板不得访问程序内部（{text}）"
        raise Invalid(f"{where}模板无法生成：{text}", errors={"body": f"{where}{text}"})


def _template_line(exc: BaseException) -> int | None:
    """The template line a render error happened at: Jinja puts the template's frames into the traceback."""
    tb, line = exc.__traceback__, None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def layout(text: str) -> Layout:
    out = Layout()
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if line == LANDSCAPE:
            out.landscape = True
        elif line == TABLE:
            out.blocks.append(("table", ""))
        elif line.startswith("## "):
            out.blocks.append(("heading", line[3:].strip()))
        elif line.startswith("# "):
            out.blocks.append(("title", line[2:].strip()))
        elif line.startswith(">>"):
            out.blocks.append(("right", line[2:].strip()))
        elif line.startswith("<<"):
            out.blocks.append(("plain", line[2:].strip()))
        else:
            out.blocks.append(("para", line))
    return out


def to_text(lay: Layout, table: Table | None) -> str:
    """Plain text of the document (the preview on the template page)."""
    lines = []
    for kind, text in lay.blocks:
        if kind == "table":
            if table:
                lines.append(" | ".join(table.headers))
                lines += [" | ".join(r) for r in table.rows]
        else:
            lines.append(("　　" if kind == "para" else "") + text)
    return "\n".join(lines)


# -- DOCX --------------------------------------------------------------------------------------------------------
def to_docx(lay: Layout, table: Table | None) -> bytes:
    from docx import Document as Docx
    from docx.enum.section import WD_ORIENT
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    def east_asian(run_or_style, name: str) -> None:
        run_or_style.font.name = "Times New Roman"
        rpr = run_or_style.element.get_or_add_rPr()
        rpr.get_or_add_rFonts().set(qn("w:eastAsia"), name)

    doc = Docx()
    style = doc.styles["Normal"]
    east_asian(style, BODY_FONT)
    style.font.size = Pt(16)  # 三号
    style.paragraph_format.line_spacing = Pt(28.95)  # 22 lines a page (GB/T 9704)
    style.paragraph_format.space_after = Pt(0)
    sec = doc.sections[0]
    sec.page_width, sec.page_height = Cm(21), Cm(29.7)
    if lay.landscape:
        sec.orientation = WD_ORIENT.LANDSCAPE
        sec.page_width, sec.page_height = sec.page_height, sec.page_width
    sec.left_margin, sec.right_margin = Cm(2.8), Cm(2.6)
    sec.top_margin, sec.bottom_margin = Cm(3.7), Cm(3.5)
    usable = sec.page_width - sec.left_margin - sec.right_margin
    for kind, text in lay.blocks:
        if kind == "table":
            if not table:
                continue
            t = doc.add_table(rows=1, cols=len(table.headers))
            t.style = "Table Grid"
            t.alignment = WD_TABLE_ALIGNMENT.CENTER
            total = sum(table.widths)
            for i, h in enumerate(table.headers):
                cell = t.rows[0].cells[i]
                cell.text = ""
                run = cell.paragraphs[0].add_run(h)
                run.bold = True
                run.font.size = Pt(12)
                cell.paragraphs[0].paragraph_format.line_spacing = 1.0
            for row in table.rows:
                cells = t.add_row().cells
                for i, v in enumerate(row):
                    cells[i].text = ""
                    cells[i].paragraphs[0].add_run(v).font.size = Pt(12)
                    cells[i].paragraphs[0].paragraph_format.line_spacing = 1.0
            for i, w in enumerate(table.widths):
                for cell in t.columns[i].cells:
                    cell.width = int(usable * w / total)
            continue
        p = doc.add_paragraph()
        run = p.add_run(text)
        if kind == "title":
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
            east_asian(run, TITLE_FONT)
            run.font.size = Pt(22)  # 二号
            p.paragraph_format.space_after = Pt(28.95)
        elif kind == "heading":
            east_asian(run, HEADING_FONT)
        elif kind == "right":
            p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        elif kind == "para":
            p.paragraph_format.first_line_indent = Pt(32)  # two characters
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


# -- PDF ---------------------------------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def cjk_font() -> tuple[str, int] | None:
    """(path, index in the collection) of a Chinese font on this machine (Simplified Chinese face of a
    collection), or None."""
    for path in FONT_CANDIDATES:
        if os.path.exists(path):
            return path, _sc_index(path)
    return None


def _sc_index(path: str) -> int:
    if not path.endswith(".ttc"):
        return 0
    from fontTools.ttLib import TTCollection

    coll = TTCollection(path, lazy=True)
    for i, font in enumerate(coll.fonts):
        name = font["name"].getDebugName(1) or ""
        if name.endswith(" SC") or "Micro Hei" in name or "Zen Hei" in name:
            return i
    return 0


def to_pdf(lay: Layout, table: Table | None, font: tuple[str, int] | None = ...) -> bytes:
    """PDF with the font embedded; `font=None` forces the standard CID font (what a machine without one gets)."""
    font = cjk_font() if font is ... else font
    return _pdf_embedded(lay, table, font) if font else _pdf_cid(lay, table)


NO_LINE_START = set("，。、；：？！）》」』】〕”’…—·%,.;:?!)]}")  # 避头: never at the start of a line
NO_LINE_END = set("（《「『【〔“‘([{")  # 避尾: never at the end of a line


_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9.:/_%@?=&#+-]*|.", re.S)


def _tokens(text: str, width_of, width: float) -> list[str]:
    """Characters, except that a Latin word, number or address stays whole unless it is wider than a line."""
    out: list[str] = []
    for tok in _WORD.findall(text):
        out.extend(tok if len(tok) > 1 and width_of(tok) > width else [tok])
    return out


def wrap(width_of, text: str, width: float) -> list[str]:
    """Lines of at most `width` (Chinese breaks between any two characters, a Latin word or number stays whole), with
    the rules of Chinese typesetting:
    a closing mark that would start a line hangs at the end of the line before (标点悬挂), an opening mark that
    would end a line goes to the next."""
    lines: list[str] = []
    cur = ""
    for ch in _tokens(text, width_of, width):
        if not cur and lines and ch[0] in NO_LINE_START:  # a second closing mark hangs with the first
            lines[-1] += ch
        elif cur and width_of(cur + ch) > width:
            if ch[0] in NO_LINE_START:
                lines.append(cur + ch)
                cur = ""
            elif len(cur) > 1 and cur[-1] in NO_LINE_END:
                lines.append(cur[:-1])
                cur = cur[-1] + ch
            else:
                lines.append(cur)
                cur = ch
        else:
            cur += ch
    lines.append(cur)
    return [line for line in lines if line] or [""]


def _pdf_embedded(lay: Layout, table: Table | None, font: tuple[str, int]) -> bytes:
    from fpdf import FPDF
    from fpdf.enums import WrapMode
    from fpdf.fonts import FontFace

    pdf = FPDF(orientation="L" if lay.landscape else "P", format="A4")
    pdf.set_margins(28, 37, 26)  # GB/T 9704-2012: 156 mm × 225 mm of text on A4
    pdf.set_auto_page_break(True, margin=35)
    pdf.add_font("cjk", fname=font[0], collection_font_number=font[1])
    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin
    for kind, text in lay.blocks:
        if kind == "table":
            if not table:
                continue
            pdf.set_font("cjk", size=10.5)
            pdf.ln(2)
            with pdf.table(col_widths=tuple(table.widths), wrapmode=WrapMode.CHAR, line_height=6,
                           text_align="CENTER", headings_style=FontFace(emphasis="")) as t:
                for row in [table.headers, *table.rows]:
                    r = t.row()
                    for v in row:
                        r.cell(v)
            pdf.ln(4)
            continue
        size, align = {"title": (22, "C"), "heading": (16, "L"), "right": (16, "R"), "plain": (16, "L"),
                       "para": (16, "L")}[kind]  # 二号 title, 三号 text
        pdf.set_font("cjk", size=size)
        for line in wrap(pdf.get_string_width, "　　" + text if kind == "para" else text, width):
            pdf.cell(width, 12 if kind == "title" else 10.2, line, align=align, new_x="LMARGIN", new_y="NEXT")
        if kind == "title":
            pdf.ln(10.2)
    return bytes(pdf.output())


def _pdf_cid(lay: Layout, table: Table | None) -> bytes:
    from xml.sax.saxutils import escape

    from reportlab.lib import colors
    from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY, TA_LEFT, TA_RIGHT
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, TableStyle
    from reportlab.platypus import Table as RTable

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    page = landscape(A4) if lay.landscape else A4
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=page, leftMargin=28 * mm, rightMargin=26 * mm, topMargin=37 * mm,
                            bottomMargin=35 * mm)

    def style(size, align, indent=0):
        return ParagraphStyle("s", fontName="STSong-Light", fontSize=size, leading=size * 1.5, alignment=align,
                              wordWrap="CJK", firstLineIndent=indent)

    styles = {"title": style(22, TA_CENTER), "heading": style(16, TA_LEFT), "right": style(16, TA_RIGHT),
              "plain": style(16, TA_LEFT), "para": style(16, TA_JUSTIFY, 32)}
    cell = style(10, TA_CENTER)
    story = []
    for kind, text in lay.blocks:
        if kind == "table":
            if not table:
                continue
            total = sum(table.widths)
            data = [[Paragraph(escape(v), cell) for v in row] for row in [table.headers, *table.rows]]
            t = RTable(data, colWidths=[doc.width * w / total for w in table.widths], repeatRows=1)
            t.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.black),
                                   ("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))
            story += [t, Spacer(1, 4 * mm)]
            continue
        story += [Paragraph(escape(text), styles[kind]), Spacer(1, 2 * mm)]
    doc.build(story)
    return buf.getvalue()
