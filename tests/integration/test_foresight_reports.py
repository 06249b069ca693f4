"""Reports over HTTP: a city-month report is rendered as HTML and PDF with its charts, stored in S3
and downloadable by its presigned URL; page 1 of the PDF, rasterised, is not blank and its text is
Chinese from an embedded font."""

from __future__ import annotations

import io

import pytest
import requests

from tests.integration.petition_factory import ADMIN, create

JANUARY = "2027-01-05T02:00:00Z"  # Tuesday 10:00 in Shanghai


def pdf_objects(content: bytes) -> bytes:
    """The PDF's objects with every Flate stream inflated (WeasyPrint packs objects in streams)."""
    import re
    import zlib

    out = [content]
    for m in re.finditer(rb"stream\r?\n", content):
        try:
            out.append(zlib.decompressobj().decompress(content[m.end() :]))
        except zlib.error:
            continue
    return b"\n".join(out)


def act(api, pid: str, action: str, as_: str, body: dict | None = None) -> dict:
    for _ in range(5):  # 409 "changed meanwhile": the publisher wrote an event in between; reload, retry
        r = api.post(f"/v1/petitions/{pid}/{action}", body or {}, as_=as_)
        if r.status_code != 409 or r.json()["error"]["code"] != "conflict":
            break
    assert r.status_code == 200, (action, r.status_code, r.text)
    return r.json()


@pytest.fixture(scope="module")
def january(api):
    """A January with petitions on several days, channels and categories; some closed and rated."""
    assert api.post("/_local/clock", {"set": JANUARY}).status_code == 200
    categories = ["municipal.lighting", "municipal.lighting", "municipal.road", None]
    for day in range(6):
        for n, (district, channel) in enumerate([("210902", "local-wechat"), ("210903", "local-hotline")]):
            category = categories[(day + n) % len(categories)]
            body = {"district": district, "citizen": {"name": "测试", "phone": f"1380013{day:02d}{n:02d}"}}
            if category:
                body["category"] = category
            pid = create(api, as_=channel, **body)["id"]
            if day % 2 == 0:
                act(api, pid, "dispatch", f"dispatcher@{district}", {"department": f"{district}.urban"})
                act(api, pid, "accept", f"handler@{district}.urban")
                act(api, pid, "resolve", f"handler@{district}.urban", {"reply": "已处理完毕"})
                act(api, pid, "review", f"reviewer@{district}", {"approve": True, "note": "属实"})
        api.post("/_local/clock", {"advance_seconds": 86400 * 3})
    # February the 3rd: January is over
    api.post("/_local/clock", {"set": "2027-02-03T02:00:00Z"})


def test_a_city_month_report_renders_with_its_charts(api, january):
    r = api.post("/v1/reports", {"period": "2027-01"}, as_=ADMIN)
    assert r.status_code == 201, r.text
    report = r.json()
    assert report["district"] == "210900" and report["kind"] == "month"
    assert report["pdf_key"] == "reports/2027-01/210900/report.pdf"
    html = requests.get(report["html_url"], timeout=30)
    assert html.status_code == 200 and "text/html" in html.headers["Content-Type"]
    text = html.content.decode("utf-8")
    assert "每月一题" in text and "阜新市" in text
    assert text.count("<svg") >= 4  # volume by day, channel, category, the rates
    assert "每日受理量" in text and "微信小程序" in text and "12345热线" in text
    pdf = requests.get(report["pdf_url"], timeout=30)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    # page 1 to PNG: not blank (a good share of the page is ink, and more than one colour of it)
    import pypdfium2
    from PIL import Image

    document = pypdfium2.PdfDocument(pdf.content)
    page = document[0]
    image = page.render(scale=1).to_pil().convert("RGB")
    png = io.BytesIO()
    image.save(png, format="PNG")
    pixels = Image.open(io.BytesIO(png.getvalue())).convert("L").get_flattened_data()
    inked = sum(1 for p in pixels if p < 200) / len(pixels)
    assert inked > 0.01, inked
    assert len(set(Image.open(io.BytesIO(png.getvalue())).get_flattened_data())) > 10
    # the words are Chinese text (not boxes): extracted as such, from the embedded CJK font
    words = page.get_textpage().get_text_range()
    assert "阜新市" in words and "受理诉求" in words
    objects = pdf_objects(pdf.content)
    assert b"/FontFile" in objects  # the font program itself is in the file: it reads the same anywhere
    assert b"WenQuanYi" in objects or b"WQY" in objects.upper()
    document.close()


def test_reports_are_listed_in_scope_and_bad_periods_are_refused(api, january):
    r = api.post("/v1/reports", {"period": "2027-01", "district": "210902"}, as_="supervisor@210902")
    assert r.status_code == 201, r.text
    mine = api.get("/v1/reports", as_="supervisor@210902").json()["items"]
    assert {(x["period"], x["district"]) for x in mine} == {("2027-01", "210902")}
    everything = api.get("/v1/reports", as_="auditor@210900").json()["items"]
    assert {("2027-01", "210900"), ("2027-01", "210902")} <= {
        (x["period"], x["district"]) for x in everything
    }
    # a district supervisor cannot make the city's or another district's report
    assert api.post("/v1/reports", {"period": "2027-01"}, as_="supervisor@210902").status_code == 404
    assert (
        api.post(
            "/v1/reports", {"period": "2027-01", "district": "210903"}, as_="supervisor@210902"
        ).status_code
        == 404
    )
    for bad in ("2027-13", "27-01", "2027-1", "next"):
        r = api.post("/v1/reports", {"period": bad}, as_=ADMIN)
        assert r.status_code == 400 and r.json()["error"]["field"] == "period", bad
    r = api.post("/v1/reports", {"period": "2030-01"}, as_=ADMIN)
    assert r.status_code == 400 and r.json()["error"]["field"] == "period"
    assert api.post("/v1/reports", {"period": "2027-01"}, as_="dispatcher@210902").status_code == 403
    assert api.get("/v1/reports").status_code == 401


def test_an_annual_report_has_a_month_by_month_line(api, january):
    r = api.post("/v1/reports", {"period": "2027", "district": "210903"}, as_=ADMIN)
    assert r.status_code == 201, r.text
    text = requests.get(r.json()["html_url"], timeout=30).content.decode("utf-8")
    assert "年度大数据分析报告" in text and "每月受理量" in text and "1月" in text


def test_the_first_of_the_month_makes_last_months_reports_for_every_district_and_the_city(api, january):
    # The schedule (foresight_monthly_reports) on the stack's runtime, at 09:00 on March the 1st
    from chalicelib.runtime import get_runtime

    assert api.post("/_local/clock", {"set": "2027-03-01T01:00:00Z"}).status_code == 200
    made = get_runtime().reports.scheduled()["generated"]
    districts = [d["code"] for d in api.get("/v1/directory/districts").json()["items"]]
    assert sorted(made) == sorted(f"reports/2027-02/{d}/report.pdf" for d in districts)
    listed = api.get("/v1/reports", as_="auditor@210900").json()["items"]
    city = next(r for r in listed if (r["period"], r["district"]) == ("2027-02", "210900"))
    text = requests.get(city["html_url"], timeout=30).content.decode("utf-8")
    assert "调解受理" in text and "网格就地解决率" in text
