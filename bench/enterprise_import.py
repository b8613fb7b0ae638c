"""The enterprise import (issue 14): a file of N enterprises checked (dry run) and committed, beside its floor.

    .venv/bin/python -m bench.enterprise_import [--n 50000] [--format csv|xlsx]

A fresh SQLite file (WAL, synchronous=NORMAL), migrated, the demo world loaded. The file holds N new enterprises over
the provinces (valid GB 32100 credit codes, cities, industries by name and by division code). Figures: the dry run
(`enterprise_import.check`: read the file, check every cell against the regions, SOE groups, industries and the
existing credit codes loaded once) and the commit (`enterprise_import.commit` in one unit of work: the same checks
again, then Core executemany). Floor, measured in the same run: the same N rows as pre-built tuples written with a
plain `sqlite3` executemany into a copy of the database as it was before the commit (no parsing, no checks).
Target: each under 60 s.
"""
import argparse
import os
import shutil
import sqlite3
import tempfile
import time

from bench.rows import emit, row

PROVINCES = (("330000", "浙江省", "330100"), ("370000", "山东省", "370100"), ("440000", "广东省", "440100"),
             ("320000", "江苏省", "320500"))
INDUSTRY = ("装备制造", "C36", "electronics", "石油化工", "C17")


def make_rows(n: int) -> list[list[str]]:
    from app.services.credit_code import with_check_char

    out = []
    for i in range(n):
        code, name, city = PROVINCES[i % len(PROVINCES)]
        out.append([with_check_char(f"91{code[:4]}00MA{i:07d}"), f"基准导入企业{i:06d}有限公司", name, city,
                    INDUSTRY[i % len(INDUSTRY)], "是" if i % 7 else "否", ""])
    return out


def as_file(rows: list[list[str]], fmt: str) -> bytes:
    import csv
    import io

    from app.services.enterprise_import import COLUMNS

    headers = [h for _, h, _ in COLUMNS]
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(headers)
        w.writerows(rows)
        return buf.getvalue().encode("utf-8")
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet()
    ws.append(headers)
    for r in rows:
        ws.append(r)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=50_000)
    ap.add_argument("--format", choices=("csv", "xlsx"), default="xlsx")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="bench-import-")
    path = os.path.join(tmp, "bench.sqlite3")
    from flask_migrate import upgrade
    from sqlalchemy import func, select

    from app import create_app
    from app.extensions import db
    from app.models import Enterprise
    from app.services import demo, enterprise_import
    from app.services.users import by_username
    from app.uow import unit_of_work

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
                      "UPLOAD_DIR": os.path.join(tmp, "files")})
    rows = make_rows(args.n)
    data = as_file(rows, args.format)
    with app.app_context():
        upgrade(revision="heads")
        demo.load_demo()
        db.session.commit()
        admin = by_username("admin")
        before = db.session.scalar(select(func.count()).select_from(Enterprise))
        db.session.remove()
        db.engine.dispose()
        shutil.copy(path, path + ".floor")
        t0 = time.perf_counter()
        report = enterprise_import.check(admin, data, f"bench.{args.format}")
        dry = time.perf_counter() - t0
        assert not report.errors and report.create == args.n, report.errors[:3]
        t0 = time.perf_counter()
        with unit_of_work():
            report = enterprise_import.commit(by_username("admin"), data, f"bench.{args.format}")
        commit = time.perf_counter() - t0
        assert db.session.scalar(select(func.count()).select_from(Enterprise)) == before + args.n
    # floor: the same rows as tuples, plain sqlite3 executemany, one transaction, into the database as it was before
    con = sqlite3.connect(path + ".floor")
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    tuples = [(r[0], r[1], True, "equipment", None, "330000", r[3], None, "{}") for r in rows]
    t0 = time.perf_counter()
    with con:
        con.executemany("INSERT INTO enterprises (credit_code, name, legal_person, industry, industry_division, "
                        "province_code, city_code, soe_group_key, declarations) VALUES (?,?,?,?,?,?,?,?,?)", tuples)
    floor = time.perf_counter() - t0
    con.close()
    shutil.rmtree(tmp, ignore_errors=True)
    size = f"{len(data) / 1e6:.1f} MB {args.format}"
    print(f"{args.n} rows ({size}): dry run {dry:.2f} s, commit {commit:.2f} s; floor (plain executemany of the same "
          f"rows) {floor:.2f} s")
    cmd = f"python -m bench.enterprise_import --n {args.n} --format {args.format}"
    emit(row(f"enterprise import dry run, {args.n} rows ({size})", cmd, f"{dry:.1f} s", f"{floor:.2f} s executemany",
             "< 60 s", "ok" if dry < 60 else "over"),
         row(f"enterprise import commit, {args.n} rows ({size})", cmd, f"{commit:.1f} s",
             f"{floor:.2f} s executemany", "< 60 s", "ok" if commit < 60 else "over"))


if __name__ == "__main__":
    main()
