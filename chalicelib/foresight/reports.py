"""Reports: 每月一题 (monthly) and 年度大数据分析报告 (annual), per district and for the city.

Figures come from the stats service (``rt().stats``: the rollups), never from the petitions
themselves: the whole period once, then each day (monthly) or month (annual) for the volume line.
HTML from a Jinja2 template with SVG charts (chalicelib.foresight.charts), PDF by WeasyPrint
(which embeds the subset of the CJK font it used: the PDF reads the same on any machine), both
written under ``reports/`` in the export bucket and listed in the foresight table.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Protocol

from chalicelib.auth import scope
from chalicelib.auth.identity import OPERATOR, Identity
from chalicelib.clock import SHANGHAI, iso
from chalicelib.errors import InvalidInput
from chalicelib.foresight import charts
from chalicelib.petitions.domain import Env

TEMPLATE = Path(__file__).with_name("data") / "report.html.j2"
SYSTEM = Identity(kind=OPERATOR, name="system:reports", role="admin")
CHANNELS = {
    "wechat": "微信小程序",
    "hotline_12345": "12345热线",
    "phone": "区县热线",
    "grid": "网格员代办",
    "walkin": "窗口受理",
    "proactive": "主动发现",
    "meeting": "逢六说事",
}
STATUS = {"open": "待处置", "case_opened": "已立案", "cooled": "已降温"}
RATES = [
    ("on_time_dispatch_rate", "按时分拨率"),
    ("on_time_accept_rate", "响应率"),
    ("on_time_resolve_rate", "按时办结率"),
    ("completion_rate", "办结率"),
    ("resolution_rate", "解决率"),
    ("satisfaction_rate", "满意率"),
    ("grid_resolution_rate", "网格就地解决率"),
]


class FigureSource(Protocol):
    def stats(self, identity: Identity, query: Any) -> dict: ...


class ReportIndex(Protocol):
    def put_report(self, report: dict) -> None: ...
    def reports(self) -> list[dict]: ...
    def hotspots(self, district: str) -> list[dict]: ...


class Files(Protocol):
    def put(self, key: str, body: bytes, kind: str) -> None: ...
    def url(self, key: str) -> str: ...


def parse_period(period: str) -> tuple[str, date, date]:
    """("month" | "year", first day, last day) of "YYYY-MM" or "YYYY"."""
    if re.fullmatch(r"20\d{2}", period or ""):
        year = int(period)
        return "year", date(year, 1, 1), date(year, 12, 31)
    m = re.fullmatch(r"(20\d{2})-(\d{2})", period or "")
    if m and 1 <= int(m.group(2)) <= 12:
        first = date(int(m.group(1)), int(m.group(2)), 1)
        following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
        return "month", first, following - timedelta(days=1)
    raise InvalidInput("period is YYYY-MM (a month) or YYYY (a year), 2000-2099", field="period")


def _pct(rate: dict | None) -> str:
    value = (rate or {}).get("value")
    return "—" if value is None else f"{value * 100:.1f}%"


@cache
def _template() -> Any:
    from jinja2 import Environment  # loaded by the functions that render, not by every cold start

    env = Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)
    return env.from_string(TEMPLATE.read_text(encoding="utf-8"))


def render_pdf(html: str) -> bytes:
    from weasyprint import HTML  # type: ignore[import-untyped]  # heavy (pango through cffi): only here

    return HTML(string=html).write_pdf()


@dataclass
class Reports:
    stats: FigureSource
    index: ReportIndex
    files: Files
    env: Callable[[], Env]
    pdf: Callable[[str], bytes] = render_pdf
    # The center's mediation figures (CONTRACT §11) over the same window, when the runtime has them.
    mediation: Callable[[Identity, Any], dict] | None = None

    def _figures(self, identity: Identity, district: str, first: date, last: date) -> dict:
        # The city's figures are every district's: the stats service's default for a city-wide caller.
        whole_city = self.env().directory.is_city(district)
        scope_district = None if whole_city else district
        q = SimpleNamespace(
            from_=first.isoformat(), to=last.isoformat(), district=scope_district, department=None
        )
        return self.stats.stats(identity, q)

    def generate(self, identity: Identity, body: Any) -> dict:
        env = self.env()
        kind, first, last = parse_period(body.period)
        district = body.district or env.city
        scope.district(identity, env.directory, district)
        today = env.now.astimezone(SHANGHAI).date()
        if first > today:
            raise InvalidInput("the period has not begun", field="period")
        last = min(last, today)
        html = self.render_html(identity, kind, body.period, district, first, last, env)
        pdf = self.pdf(html)
        base = f"reports/{body.period}/{district}/report"
        self.files.put(f"{base}.html", html.encode("utf-8"), "html")
        self.files.put(f"{base}.pdf", pdf, "pdf")
        report = {
            "period": body.period,
            "kind": kind,
            "district": district,
            "from": first.isoformat(),
            "to": last.isoformat(),
            "generated_at": iso(env.now),
            "generated_by": identity.actor,
            "html_key": f"{base}.html",
            "pdf_key": f"{base}.pdf",
            "html_bytes": len(html.encode("utf-8")),
            "pdf_bytes": len(pdf),
        }
        self.index.put_report(report)
        return self._out(report)

    def list(self, identity: Identity, district: str | None) -> dict:
        env = self.env()
        allowed = set(scope.districts(identity, env.directory, district))
        if district is None and scope.covers(identity, env.directory, env.city):
            allowed.add(env.city)
        rows = [r for r in self.index.reports() if r["district"] in allowed]
        rows.sort(key=lambda r: (r["period"], r["district"]), reverse=True)
        return {"items": [self._out(r) for r in rows]}

    def scheduled(self) -> dict:
        """On the 1st: last month's report for each district and the city; in January, last year's too."""
        env = self.env()
        today = env.now.astimezone(SHANGHAI).date()
        previous = today.replace(day=1) - timedelta(days=1)
        periods = [previous.strftime("%Y-%m")] + ([str(previous.year)] if today.month == 1 else [])
        made = []
        for period in periods:
            for district in [d.code for d in env.directory.districts]:
                made.append(
                    self.generate(SYSTEM, SimpleNamespace(period=period, district=district))["pdf_key"]
                )
        return {"generated": made}

    def _out(self, r: dict) -> dict:
        return {**r, "html_url": self.files.url(r["html_key"]), "pdf_url": self.files.url(r["pdf_key"])}

    # --- the document ---------------------------------------------------------------------------------

    def render_html(
        self, identity: Identity, kind: str, period: str, district: str, first: date, last: date, env: Env
    ) -> str:
        directory = env.directory
        place = directory.district(district)
        place_name = place.name if place else district
        whole = self._figures(identity, district, first, last)
        total = whole["total"]
        if kind == "month":
            steps = [
                (first + timedelta(days=i), first + timedelta(days=i)) for i in range((last - first).days + 1)
            ]
            label = lambda d: f"{d.day}日"  # noqa: E731
        else:
            steps = []
            for month in range(1, last.month + 1):
                start = date(first.year, month, 1)
                end = date(first.year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
                steps.append((start, min(end, last)))
            label = lambda d: f"{d.month}月"  # noqa: E731
        volume = [(label(a), self._figures(identity, district, a, b)["total"]["received"]) for a, b in steps]

        def name_of_category(code: str) -> str:
            c = directory.category(code)
            return c.name if c else ("未分类" if code in ("", "none", "uncategorised") else code)

        by_channel = sorted(
            ((CHANNELS.get(k, k), v["received"]) for k, v in whole["by_channel"].items()), key=lambda x: -x[1]
        )
        by_category = sorted(
            ((name_of_category(k), v["received"]) for k, v in whole["by_category"].items()),
            key=lambda x: -x[1],
        )[:10]
        rates = [(label_, round((total.get(key) or {}).get("value") or 0, 4) * 100) for key, label_ in RATES]
        units = []
        for code, f in whole["by_department"].items():
            dep = directory.department(code)
            units.append(
                {
                    "name": dep.name if dep else code,
                    "received": f["received"],
                    "completion": _pct(f.get("completion_rate")),
                    "on_time": _pct(f.get("on_time_resolve_rate")),
                    "satisfaction": _pct(f.get("satisfaction_rate")),
                    "_key": (
                        -((f.get("completion_rate") or {}).get("value") or 0),
                        -((f.get("satisfaction_rate") or {}).get("value") or 0),
                        -f["received"],
                    ),
                }
            )
        units.sort(key=lambda u: u["_key"])
        topic = None
        if whole["by_category"]:
            code, f = max(whole["by_category"].items(), key=lambda kv: kv[1]["received"])
            topic = {
                "name": name_of_category(code),
                "received": f["received"],
                "share": f"{f['received'] / total['received'] * 100:.1f}%" if total["received"] else "—",
                "closed": f["closed"],
                "satisfaction": _pct(f.get("satisfaction_rate")),
            }
        districts = [d.code for d in directory.districts] if directory.is_city(district) else [district]
        hotspots = []
        for code in districts:
            for h in self.index.hotspots(code):
                opened = h["opened_at"][:10]
                if first.isoformat() <= opened <= last.isoformat():
                    grid = directory.grid(h["grid"])
                    hotspots.append(
                        {
                            "opened": opened,
                            "grid": grid.name if grid else h["grid"],
                            "category": name_of_category(h["category"]),
                            "count": h["count"],
                            "baseline": h["baseline_weekly"],
                            "status": STATUS.get(h["status"], h["status"]),
                        }
                    )
        kind_title = "每月一题" if kind == "month" else "年度大数据分析报告"
        when = f"{first.year}年{first.month}月" if kind == "month" else f"{first.year}年"
        mean = total.get("mean_working_days_to_close")
        kpis = [
            {"label": "受理诉求", "value": f"{total['received']}件", "detail": ""},
            {
                "label": "已办结",
                "value": f"{total['closed']}件",
                "detail": f"办结率 {_pct(total.get('completion_rate'))}",
            },
            {"label": "响应率", "value": _pct(total.get("on_time_accept_rate")), "detail": "按时签收"},
            {"label": "解决率", "value": _pct(total.get("resolution_rate")), "detail": "办结且未重办"},
            {"label": "满意率", "value": _pct(total.get("satisfaction_rate")), "detail": "满意及基本满意"},
            {"label": "平均办结", "value": "—" if mean is None else f"{mean}个工作日", "detail": ""},
        ]
        return _template().render(
            title=f"{place_name}{when}诉求办理{kind_title}",
            place=place_name,
            first=first.isoformat(),
            last=last.isoformat(),
            generated=env.now.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M"),
            kpis=kpis,
            topic=topic,
            topic_heading="每月一题" if kind == "month" else "年度焦点问题",
            volume_chart=charts.line("每日受理量" if kind == "month" else "每月受理量", volume),
            channel_chart=charts.bars("按渠道", by_channel, unit="件"),
            category_chart=charts.bars("按类别（前十）", by_category, unit="件"),
            rates_chart=charts.bars("主要指标（%）", rates, unit="%"),
            units=units[:15],
            hotspots=hotspots,
            grid_rate=_pct(total.get("grid_resolution_rate")),
            mediation=self._mediation_text(identity, district, first, last),
        )

    def _mediation_text(self, identity: Identity, district: str, first: date, last: date) -> str:
        if self.mediation is None:
            return ""
        whole_city = self.env().directory.is_city(district)
        q = SimpleNamespace(
            from_=first.isoformat(), to=last.isoformat(), district=None if whole_city else district
        )
        m = self.mediation(identity, q)
        own, court = m["mediation"]["total"], m["pre_litigation"]["total"]
        return (
            f"调解受理 {own['cases']} 件，已结 {own['concluded']} 件，"
            f"调解成功率 {_pct(own['success_rate'])}；"
            f"诉前调解 {court['cases']} 件，成功率 {_pct(court['success_rate'])}。"
        )
