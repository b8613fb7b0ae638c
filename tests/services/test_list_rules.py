"""Programme rules of lists, quotas and objections (issue 16 items 4, 5, 6), at the service level on the real
database: an unknown quota figure blocks only a list it could matter for and names the figure actually missing;
an objection after `notice_until` is refused even before the sweep ends the notice; a list shows each entry's
current status and any revocation while the published original still verifies."""
from datetime import datetime, timedelta

import pytest

from app.errors import Invalid
from app.extensions import db
from app.models import Region
from app.services import lists, objections, quotas
from tests.conftest import user


def test_a_list_within_every_ranks_quota_is_accepted_while_the_rank_is_missing():
    sd = user("sd-reviewer")  # Shandong: 2024 IVA rank not loaded (no sourced figure)
    assert db.session.get(Region, "370000").iva_rank_2024 is None
    lst = lists.recommend(sd, "excellent", 2026, [])
    assert lst.details["quota"] is None and lst.details["quota_floor"] == 20
    assert lst.details["missing"] == ["iva_rank_2024"]


def test_a_list_the_missing_rank_could_matter_for_is_refused_naming_it():
    with pytest.raises(Invalid) as exc:
        lists.recommend(user("sd-reviewer"), "excellent", 2026, list(range(900000, 900021)))
    assert "iva_rank_2024" in exc.value.message and "at most 20" in exc.value.message
    assert "excellent_2024" not in exc.value.message


def test_a_rank_of_zero_names_the_rank_not_another_figure():
    db.session.get(Region, "330000").iva_rank_2024 = 0
    db.session.flush()
    with pytest.raises(Invalid) as exc:
        quotas.quota_for("excellent", "province:330000")
    assert "iva_rank_2024=0" in exc.value.message and "excellent_2024" not in exc.value.message


def test_the_lighthouse_quota_names_the_count_it_lacks():
    db.session.get(Region, "370000").excellent_2024 = None
    db.session.flush()
    with pytest.raises(Invalid) as exc:
        quotas.quota_for("lighthouse", "province:370000")
    assert "excellent_2024" in exc.value.message and "iva_rank_2024" not in exc.value.message
    assert quotas.quota_floor("lighthouse", "province:370000") == (1, ["excellent_2024"])


def test_an_objection_after_notice_until_is_refused_before_the_sweep(client, auth_headers, clock):
    from tests.api.test_excellent import _to_notice

    cid = _to_notice(client, auth_headers)
    from app.services import instances, processes
    from workflows.instance import Instance

    rec = instances.load(cid)  # the end of the period as the diagram computed it, read without the service
    until = datetime.fromisoformat(Instance.load(rec.state, processes.version_info(rec.process_version_id).bundle)
                                   .case_data()["notice_until"])
    assert until == objections.notice_until(rec)
    assert until.tzinfo is not None
    clock.at = until - timedelta(seconds=1)
    objections.lodge(user("acme"), cid, "公示期内的异议：产能数据存疑。")  # still inside the period
    db.session.rollback()
    clock.at = until + timedelta(seconds=1)  # the sweep has not run: the case still says public_notice
    assert instances.load(cid).status == "public_notice"
    with pytest.raises(Invalid) as exc:
        objections.lodge(user("acme"), cid, "公示期结束后的异议，应当被拒绝。")
    assert "ended" in exc.value.message


def test_a_list_shows_a_revoked_entry_and_its_original_still_verifies(client, auth_headers):
    from tests.api.test_advanced import complete, my_task, status
    from tests.api.test_excellent import _to_notice

    cid = _to_notice(client, auth_headers)
    (lst,) = [x for x in lists.visible_lists(user("zj-reviewer")) if cid in [e.case_id for e in x.entries]]
    original = lst.content_hash
    assert original and lists.verify(lst)
    client.post(f"/api/v1/cases/{cid}/objections", json={"reason": "申报数据与实际产能不符，疑似夸大。"},
                headers=auth_headers("qingdao-home"))
    miit = auth_headers("miit-1")
    complete(client, miit, my_task(client, miit, cid, "objection_review")["id"],
             {"decision": "reject", "resolution": "经核实异议成立"})
    assert status(client, miit, cid) == "rejected"
    db.session.expire_all()
    lst = lists.get_list(user("zj-reviewer"), lst.id)
    (entry,) = lists.list_json(lst)["cases"]
    assert entry["status"] == "rejected" and entry["revocation_reason"] == "经核实异议成立"
    assert datetime.fromisoformat(entry["revoked_at"])
    assert lst.content_hash == original and lists.verify(lst)  # the published original is unchanged
    from app.services import exports

    (row,) = exports.rows(lst)
    assert row["status"] == "未通过"  # the Chinese status, never the code
    assert "经核实异议成立" in row["remarks"] and "撤销" in row["remarks"]
    header = [zh for _k, zh in exports.COLUMNS]
    assert header == ["推荐单位", "推荐顺序", "申报主体", "统一社会信用代码", "智能工厂名称", "所在地区", "所属行业",
                      "联系人及电话", "备注", "状态"]
    assert "OUR layout" in exports.__doc__  # not claimed to be the notice's 附件3/附件5
