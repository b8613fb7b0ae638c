"""Test data helpers shared by service, API and browser tests."""

GOOD_ASSESSMENT = {
    "above_scale": True, "sound_operations": True, "no_bad_record": True, "secure_controllable": True,
    "organisation_talent": True, "maturity_level": 2, "accept_responsibility": True,
    "construction": {
        "factory_construction": "车间网络全覆盖，关键设备联网率85%。",
        "rd_design": "采用三维设计与仿真工具，设计数据统一管理。",
        "production_operations": "关键工序数控化，生产数据自动采集。",
        "production_management": "部署MES，实现计划排产与质量追溯。",
        "operations_management": "ERP与MES集成，财务业务一体化。",
    },
    "outcomes": "生产效率提升20%。",
}


# the basic requirements every tier's application asks again, and the maturity report for the claimed level (16.9)
BASIC_REQUIREMENTS_MET = {"above_scale": True, "sound_operations": True, "no_bad_record": True,
                          "secure_controllable": True, "organisation_talent": True}


def maturity_evidence(attachment_id: int, level: int) -> dict:
    return {**BASIC_REQUIREMENTS_MET, "maturity_level": level, "maturity_report": attachment_id,
            "maturity_report_level": level}
