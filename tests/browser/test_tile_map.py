"""The provinces at a glance in headless Chromium (issue 19, part 2): a national reviewer opens the dashboard, sees
the tile map, chooses the Shandong square and lands on Shandong's figures, whose heatmap link points at the heatmap
page of that tier, campaign and province; a chart's PNG button downloads a PNG and the data link an XLSX that
openpyxl reads. A provincial reviewer sees its own square outlined and no figures on the others."""
import io

import pytest
from openpyxl import load_workbook

from app.services import cases, tasks
from app.uow import unit_of_work
from tests.browser.helpers import ARTIFACTS, screenshot, sign_in, watch_errors
from tests.browser.test_accessibility import AXE, _axe
from tests.conftest import user
from tests.factories import GOOD_ASSESSMENT


def _shandong_basic_case() -> None:
    """A basic self-assessment of the Qingdao enterprise (Shandong), submitted: one application in review."""
    with unit_of_work():
        case = cases.create_case(user("qingdao-home"), "basic", 2026)
        tasks.complete(user("qingdao-home"), cases.open_tasks(case)[0].id, GOOD_ASSESSMENT)


@pytest.mark.browser
def test_national_reviewer_goes_from_the_tile_map_to_a_province(page):
    _shandong_basic_case()
    errors = watch_errors(page)
    sign_in(page, "miit-1")
    page.goto("/dashboard?tier=basic&campaign=2026&figure=in_review")
    assert page.locator(".tile-grid a.tile").count() == 32  # 31 provinces and the XPCC
    tile = page.locator("#tile-370000")
    assert "山东省" in tile.inner_text() and "1" in tile.locator(".tile-value").inner_text()
    assert page.locator("#tile-soe-sinopec").count() == 1
    page.wait_for_selector("#chart-funnel-basic[data-ready=true]")
    screenshot(page, "dashboard-tile-map")

    # the PNG of a chart, drawn in the browser
    with page.expect_download() as download:
        page.click("#png-funnel-basic")
    png = download.value
    assert png.suggested_filename.endswith(".png")
    assert open(png.path(), "rb").read(8) == b"\x89PNG\r\n\x1a\n"

    # the data of the tile map as XLSX
    with page.expect_download() as download:
        page.click("#xlsx-tiles")
    ws = load_workbook(io.BytesIO(open(download.value.path(), "rb").read())).active
    rows = {r[0]: r for r in ws.iter_rows(values_only=True)}
    assert rows["山东省"][1:4] == ("1", "0", "1")

    with page.expect_navigation():
        tile.click()
    assert "/dashboard/provinces/370000" in page.url and "tier=basic" in page.url and "campaign=2026" in page.url
    assert page.locator("h1#recommender-name").inner_text() == "山东省"
    assert page.get_attribute("#heatmap-link", "href") == "/dashboard/heatmap?tier=basic&campaign=2026&province=370000"
    assert page.locator("#table-figures tr[data-tier=basic] td.num").all_inner_texts()[:4] == ["1", "0", "1", "0"]
    page.wait_for_selector("#chart-funnel[data-ready=true]")
    screenshot(page, "dashboard-province")
    assert not errors, errors


@pytest.mark.browser
@pytest.mark.skipif(AXE is None, reason="axe-core is not installed: npm ci && npm run build")
def test_the_tile_map_pages_pass_axe(page):
    _shandong_basic_case()
    sign_in(page, "miit-1")
    found = {}
    for url in ("/dashboard?tier=excellent&figure=quota", "/dashboard/provinces/370000?tier=basic",
                "/dashboard/groups/sinopec", "/dashboard?tier=gold"):
        page.goto(url)
        found[url] = _axe(page)
    screenshot(page, "dashboard-bad-selection")
    page.goto("/dashboard?tier=excellent&figure=quota")
    screenshot(page, "dashboard-tile-map-quota")
    page.context.clear_cookies()
    sign_in(page, "sd-reviewer")
    page.goto("/dashboard")
    found["sd-reviewer /dashboard"] = _axe(page)
    assert not any(found.values()), found


@pytest.mark.browser
def test_a_provincial_reviewer_sees_its_own_square_only(page):
    sign_in(page, "sd-reviewer")
    page.goto("/dashboard")
    own = page.locator("#tile-370000")
    assert "own" in own.get_attribute("class") and own.evaluate("e => e.tagName") == "A"
    other = page.locator("#tile-330000")
    assert other.evaluate("e => e.tagName") == "SPAN" and "hidden-figures" in other.get_attribute("class")
    assert page.locator(".tile-grid a.tile").count() == 1
    screenshot(page, "dashboard-tile-map-province")


# the PNG's layout (static/tile_png.js): a square at column c, row r starts at (PAD + c*(TILE+GAP), TOP + r*(TILE+GAP))
# CSS pixels, drawn at SCALE
SCALE, PAD, TOP, TILE, GAP = 2, 16, 56, 84, 6


def _rgb(css: str) -> tuple:
    """'rgb(180, 40, 45)' -> (180, 40, 45)"""
    return tuple(int(x) for x in css[css.index("(") + 1:css.index(")")].split(",")[:3])


def _pixel(img, col: int, row: int, dx: int = 6, dy: int = 6) -> tuple:
    x, y = PAD + col * (TILE + GAP) + dx, TOP + row * (TILE + GAP) + dy
    return img.getpixel((x * SCALE, y * SCALE))[:3]


@pytest.mark.browser
def test_the_tile_map_downloads_as_a_png_coloured_as_on_screen(page):
    from PIL import Image

    from app.services.tile_map import GRID

    _shandong_basic_case()
    errors = watch_errors(page)
    sign_in(page, "miit-1")
    page.goto("/dashboard?tier=basic&campaign=2026&figure=in_review")
    button = page.locator("#png-tiles")
    button.wait_for(state="visible")
    assert button.inner_text() == "下载图表（PNG）"
    shandong = _rgb(page.locator("#tile-370000").evaluate("e => getComputedStyle(e).backgroundColor"))
    zhejiang = _rgb(page.locator("#tile-330000").evaluate("e => getComputedStyle(e).backgroundColor"))
    assert page.get_attribute("#tile-370000", "data-short") == "山东"  # the name the PNG writes on the square
    assert shandong != zhejiang  # Shandong has the one case in review, Zhejiang none: two colours to tell apart
    with page.expect_download() as download:
        button.click()
    png = download.value
    assert png.suggested_filename.endswith(".png") and "基础级" in png.suggested_filename
    data = open(png.path(), "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
    img = Image.open(io.BytesIO(data)).convert("RGB")
    width, height = img.size
    assert width == (2 * PAD + 8 * TILE + 7 * GAP) * SCALE and height > (TOP + 8 * (TILE + GAP)) * SCALE
    assert _pixel(img, *GRID["370000"]) == shandong  # the square coloured as the page shows it
    assert _pixel(img, *GRID["330000"]) == zhejiang
    assert _pixel(img, 0, 0) == (255, 255, 255)  # no province at the top-left corner: the white background
    # the square holds its name and value in the page's text colour on its fill: not a plain block of colour
    col, row = GRID["370000"]
    x0, y0 = (PAD + col * (TILE + GAP)) * SCALE, (TOP + row * (TILE + GAP)) * SCALE
    inner = img.crop((x0 + 8, y0 + 8, x0 + (TILE - 8) * SCALE, y0 + (TILE - 8) * SCALE))
    ink = _rgb(page.locator("#tile-370000").evaluate("e => getComputedStyle(e).color"))
    assert sum(1 for p in inner.get_flattened_data() if p == ink) > 50
    # the title band holds text (the tier, campaign and figure)
    assert any(sum(p) < 200 for p in img.crop((0, 0, width, TOP * SCALE)).get_flattened_data())
    img.save(ARTIFACTS / "dashboard-tile-map-export.png")
    assert not errors, errors


@pytest.mark.browser
def test_a_provincial_reviewers_png_holds_no_other_provinces_figures(page):
    from PIL import Image

    from app.services.tile_map import GRID

    _shandong_basic_case()
    sign_in(page, "zj-reviewer")
    page.goto("/dashboard?tier=basic&campaign=2026&figure=in_review")
    page.locator("#png-tiles").wait_for(state="visible")
    with page.expect_download() as download:
        page.click("#png-tiles")
    img = Image.open(download.value.path()).convert("RGB")
    own = _rgb(page.locator("#tile-330000").evaluate("e => getComputedStyle(e).backgroundColor"))
    assert _pixel(img, *GRID["330000"]) == own
    # Shandong (one case in review) is drawn as the page shows it to Zhejiang: white, no figure, no colour step
    assert _pixel(img, *GRID["370000"]) == (255, 255, 255)
    col, row = GRID["370000"]
    x0, y0 = (PAD + col * (TILE + GAP)) * SCALE, (TOP + row * (TILE + GAP)) * SCALE
    square = img.crop((x0 + 8, y0 + 8, x0 + (TILE - 8) * SCALE, y0 + (TILE - 8) * SCALE))
    assert (180, 40, 45) not in set(square.get_flattened_data())  # no lvl-4 red inside it


@pytest.mark.browser
def test_the_png_in_english(page):
    sign_in(page, "miit-1")
    page.goto("/dashboard?tier=basic&campaign=2026")
    with page.expect_navigation():
        page.click("button:has-text('English')")
    page.goto("/dashboard?tier=basic&campaign=2026")
    assert page.get_attribute("#tile-650000", "data-short") == "Xinjiang"
    assert page.get_attribute("#tile-660000", "data-short") == "XPCC"
    with page.expect_download() as download:
        page.click("#png-tiles")
    data = open(download.value.path(), "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    (ARTIFACTS / "dashboard-tile-map-export-en.png").write_bytes(data)
