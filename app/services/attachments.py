"""Attachments: stored once by SHA-256 outside the web root, served only to users who may see the case."""
import hashlib
import os
import tempfile
import unicodedata
from pathlib import Path

from sqlalchemy import select

from app.errors import Forbidden, NotFound, TooLarge, UnsupportedType
from app.extensions import db
from app.models import Attachment, HumanTask, User
from app.services import cases, clock, events, instances, visibility
from app.services.scope import acting_clause
from app.settings import settings

# what the first bytes of each allowed type look like; the name's extension alone proves nothing
MAGIC = {
    "pdf": (b"%PDF-",), "png": (b"\x89PNG\r\n\x1a\n",), "jpg": (b"\xff\xd8\xff",), "jpeg": (b"\xff\xd8\xff",),
    "xlsx": (b"PK\x03\x04",), "docx": (b"PK\x03\x04",),
}
CONTENT_TYPES = {
    "pdf": "application/pdf", "png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


# an inner extension that makes a name look like, or open as, something else (`申报书.exe.pdf`): refused with 415
DANGEROUS_INNER = frozenset("""
exe com bat cmd scr pif msi msp dll cpl jar js jse vbs vbe wsf wsh ps1 psm1 sh bash zsh csh ksh py pl rb php phtml
asp aspx jsp cgi hta html htm xhtml shtml svg svgz xml xsl lnk url reg inf app apk deb rpm dmg iso vhd
""".split())


def _visible(ch: str) -> bool:
    """Not a control (C0, DEL, C1: category Cc) or format character (Cf: the bidi marks, embeddings, overrides and
    isolates U+200E/F, U+202A–U+202E, U+2066–U+2069, zero-width characters, the BOM)."""
    return unicodedata.category(ch) not in ("Cc", "Cf")


def _safe_name(name: str) -> str:
    """The last path component, without control, bidi or other format characters or leading dots, at most 200
    characters (the extension kept: it decides the type)."""
    name = "".join(ch for ch in (name or "") if _visible(ch))
    base = os.path.basename(name.replace("\\", "/")).strip().lstrip(".")
    if len(base) > 200:
        stem, dot, ext = base.rpartition(".")
        base = stem[:200 - len(ext) - 1] + dot + ext if dot and len(ext) <= 10 else base[:200]
    return base or "file"


def store_path(sha: str) -> Path:
    return Path(settings().upload_dir) / sha[:2] / sha


def may_upload(actor: User, case) -> bool:
    """Files go to a case from its enterprise, from whoever may act on one of its open tasks, or from an
    administrator; a user who may only read the case (an auditor, a national reader) may not add to it."""
    if actor.role == "admin":
        return True
    if actor.role == "enterprise" and case.enterprise_id == actor.enterprise_id:
        return True
    return db.session.scalar(select(HumanTask.id).where(
        HumanTask.case_id == case.id, HumanTask.state == "open", acting_clause(actor)).limit(1)) is not None


def upload(actor: User, case_id: int, filename: str, stream) -> Attachment:
    case = cases.get_case(actor, case_id)
    if not may_upload(actor, case):
        raise Forbidden("only the enterprise, a reviewer with an open task of this case or an administrator adds "
                        "files to it")
    return store(actor, case, filename, stream)


def store(actor: User, case, filename: str, stream, action: str = "attachment.uploaded") -> Attachment:
    """Check, hash and keep one file for a case whose access the caller has already decided (an upload by the
    case's own people, or the evidence of an objection during a public notice). `action`: the event it is
    recorded as (`document.attached` for a document the system generated: nobody uploaded it)."""
    name = _safe_name(filename)
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    inner = [part.strip().lower() for part in name.split(".")[1:-1]]
    if DANGEROUS_INNER.intersection(inner):
        raise UnsupportedType(f"a double extension ({name!r}): a file named like a program or a page is not "
                              f"accepted; rename it")
    allowed = [t.strip().lower() for t in settings().allowed_upload_types]
    if ext not in allowed or ext not in MAGIC:
        raise UnsupportedType(f"file type {ext or '(none)'!r} is not allowed; allowed: {', '.join(allowed)}")
    limit = settings().max_upload_mb * 1024 * 1024
    digest, size = hashlib.sha256(), 0
    root = Path(settings().upload_dir)
    root.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=root, prefix=".upload-")
    try:
        head = b""
        with os.fdopen(fd, "wb") as out:
            while chunk := stream.read(64 * 1024):
                size += len(chunk)
                if size > limit:
                    raise TooLarge(f"file larger than {settings().max_upload_mb} MB")
                if len(head) < 16:
                    head += chunk[:16]
                digest.update(chunk)
                out.write(chunk)
        if not any(head.startswith(m) for m in MAGIC[ext]):
            raise UnsupportedType(f"the content is not a {ext.upper()} file")
        sha = digest.hexdigest()
        dest = store_path(sha)
        dest.parent.mkdir(parents=True, exist_ok=True)
        if dest.exists():
            os.unlink(tmp)
        else:
            os.replace(tmp, dest)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    now = clock.now()
    att = Attachment(case_id=case.id, sha256=sha, filename=name, content_type=CONTENT_TYPES[ext], size=size,
                     uploaded_by=actor.id, uploaded_at=now)
    db.session.add(att)
    db.session.flush()
    events.append(case, action, actor.id, now,
                  data={"attachment": att.id, "sha256": sha, "filename": name, "size": size})
    instances.flush_orm()
    return att


def of_case(actor: User, case_id: int) -> list[Attachment]:
    """The files of a case, for whoever may see the case (404 outside its scope)."""
    case = cases.get_case(actor, case_id)
    seen = visibility.for_case(actor, case)  # the applicant never sees an objection's evidence
    return [a for a in db.session.scalars(select(Attachment).where(Attachment.case_id == case.id)
                                          .order_by(Attachment.id)) if seen.attachment(a.id)]


def get(actor: User, attachment_id: int) -> tuple[Attachment, Path]:
    att = db.session.get(Attachment, attachment_id)
    if att is None:
        raise NotFound("no such attachment")
    case = cases.get_case(actor, att.case_id)  # NotFound outside scope
    if not visibility.for_case(actor, case).attachment(att.id):
        raise NotFound("no such attachment")  # objection evidence, for the objected enterprise
    return att, store_path(att.sha256)
