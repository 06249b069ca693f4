"""The anonymiser of the public cases (典型案例): what it takes out, and what it leaves readable."""

from __future__ import annotations

import pytest

from chalicelib.foresight.broadcast import estimate, full_text
from chalicelib.foresight.scrub import leaks, scrub


@pytest.mark.parametrize(
    "text",
    [
        "请联系13800138000",
        "电话 +86 138-0013-8000",
        "座机0418-2812345",
        "身份证21090219900101123X",
        "邮箱 zhang.san@example.com",
        "阳光家园小区3号楼2单元502室",
        "光明街16号",
        "7栋楼下",
        "五楼501户",
    ],
)
def test_personal_data_is_taken_out(text):
    out = scrub(text)
    assert leaks(out) == [], out


def test_the_citizens_name_and_forms_of_address_are_taken_out():
    out = scrub("张建国反映，张先生和李女士家门口积水，王大爷也说了", ["张建国"])
    assert "张建国" not in out and "张先生" not in out and "李女士" not in out and "王大爷" not in out
    assert "某某反映" in out and "某先生" in out and "某女士" in out


def test_what_is_not_personal_stays_readable():
    out = scrub("海州区光明社区路灯不亮，已于3日内更换灯具，群众表示满意。")
    assert out.startswith("海州区光明社区路灯不亮") and "群众表示满意" in out


def test_the_broadcast_price_is_segments_times_recipients_times_the_segment_price():
    short = estimate("周六照常办公。", 1000)
    assert full_text("周六照常办公。") == "【阜政通】周六照常办公。回复TD退订"
    assert short["segments"] == 1 and short["cost_cny"] == pytest.approx(1000 * short["segment_price_cny"])
    long = estimate("长" * 80, 1000)  # 80 + prefix + suffix > 70 UCS-2 units: two 67-unit parts
    assert long["segments"] == 2 and long["cost_cny"] == pytest.approx(2 * 1000 * long["segment_price_cny"])
    assert long["minutes_at_throttle"] == -(-1000 // long["per_minute"])


def test_service_lines_are_not_personal():
    assert scrub("请拨打12345热线或110报警") == "请拨打12345热线或110报警"
    assert "2812345" not in scrub("拨打2812345")
