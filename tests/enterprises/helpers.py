"""Shared by the enterprise tests: credit codes no demo enterprise uses, files in the template's layout, and the
clean-up of everything an import can write (enterprises, their accounts, one-time files)."""
import csv
import io

from openpyxl import Workbook
from sqlalchemy import select

from app.extensions import db
from app.models import User
from app.services.credit_code import with_check_char
from app.services.enterprise_import import COLUMNS

HEADERS = [h for _, h, _ in COLUMNS]
PREFIX = "91330100MA7Q"  # 12 characters; five digits and the check digit follow
PA_USERNAME = "zj-ent-admin"


def code(i: int, prefix: str = PREFIX) -> str:
    return with_check_char(f"{prefix}{i:05d}")


def row(i: int, **over) -> list[str]:
    values = {"credit_code": code(i), "name": f"测试导入企业{i:05d}有限公司", "province": "浙江省", "city": "330100",
              "industry": "装备制造", "legal_person": "是", "soe_group": ""} | over
    return [values[f] for f, _, _ in COLUMNS]


def as_csv(rows, headers=HEADERS, encoding="utf-8-sig") -> bytes:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(headers)
    w.writerows(rows)
    return out.getvalue().encode(encoding)


def as_xlsx(rows, headers=HEADERS) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(headers)
    for r in rows:
        ws.append(r)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def provincial_admin(province: str = "330000", username: str = PA_USERNAME) -> User:
    from werkzeug.security import generate_password_hash

    u = db.session.scalar(select(User).where(User.username == username))
    if u is None:
        u = User(username=username, role="provincial_admin", province_code=province,
                 password_hash=generate_password_hash("pa-secret-2026", method="pbkdf2:sha256:1000"))
        db.session.add(u)
        db.session.commit()
    return u


def cleanup(prefixes=(PREFIX,), usernames=(PA_USERNAME,)) -> None:
    """What an import wrote (enterprises, accounts, sessions, one-time files, system events) is removed by the shared
    per-test fixture (tests/conftest.py), which restores every table to the demo world; here only the session's
    unfinished work is dropped."""
    db.session.rollback()
