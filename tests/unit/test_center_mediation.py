"""The mediation case's state machine (chalicelib/center/mediation.py), pure: open → sessions →
agreement | failed | withdrawn, a failed case referred to court, nothing after the outcome;
and the figures over cases (chalicelib/center/service.figures)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.center import mediation as m
from chalicelib.center.service import figures
from chalicelib.errors import Conflict, InvalidInput

NOW = datetime(2026, 11, 16, 2, 0, tzinfo=UTC)
PARTY = m.Party("applicant", "sealed-name", "王**", "sealed-phone", "139****1111")
OTHER = m.Party("respondent", "sealed-name-2", "李**", "sealed-phone-2", "139****2222")


def opened(**overrides) -> m.Mediation:
    args = {
        "id": "TJ261116AAAAAA",
        "district": "210902",
        "unit": "210902.center",
        "mediator": "mediator@210902.center",
        "kind": "neighbour",
        "pre_litigation": False,
        "parties": (PARTY, OTHER),
        "petition": None,
        "actor": "desk@210902.center",
        "now": NOW,
        **overrides,
    }
    return m.open_case(**args).case


def conclude(case: m.Mediation, result: str, **overrides) -> m.Change:
    args = {
        "result": result,
        "agreement": None,
        "judicial_confirmation": None,
        "referred_to_court": None,
        "evidence": (),
        "actor": "mediator@210902.center",
        "now": NOW + timedelta(days=3),
        **overrides,
    }
    return m.conclude(case, **args)


def test_opening_a_case_is_its_first_event_and_it_is_open():
    change = m.open_case(
        id="TJ1",
        district="210902",
        unit="210902.center",
        mediator="mediator@210902.center",
        kind="family",
        pre_litigation=False,
        parties=(PARTY,),
        petition="261116ABCDEF",
        actor="mediator@210902.center",
        now=NOW,
    )
    assert change.case.status == "open" and not change.case.concluded
    assert [(e["seq"], e["type"]) for e in change.events] == [(1, "opened")]
    assert change.events[0]["petition"] == "261116ABCDEF" and change.sms == []


@pytest.mark.parametrize(("bad", "field"), [({"kind": "divorce"}, "kind"), ({"parties": ()}, "parties")])
def test_an_unknown_kind_or_no_party_is_refused_naming_the_field(bad, field):
    with pytest.raises(InvalidInput) as err:
        opened(**bad)
    assert err.value.field == field


def test_a_party_with_an_unknown_role_is_refused_naming_it():
    stranger = m.Party("witness", "s", "赵*", "p", "139****3333")
    with pytest.raises(InvalidInput) as err:
        opened(parties=(PARTY, stranger))
    assert err.value.field == "parties.1.role"


def test_each_session_is_an_event_and_an_sms_to_every_party():
    case = opened()
    first = m.add_session(case, NOW + timedelta(days=1), "第一次", "mediator@210902.center", NOW)
    second = m.add_session(first.case, NOW + timedelta(days=2), None, "mediator@210902.center", NOW)
    assert [e["seq"] for e in first.events + second.events] == [2, 3]
    assert second.case.status == "open" and len(second.case.sessions) == 2
    assert [s["phone_sealed"] for s in second.sms] == ["sealed-phone", "sealed-phone-2"]
    assert all(s["template"] == "mediation_session" for s in second.sms)


@pytest.mark.parametrize("result", ["agreement", "failed", "withdrawn"])
def test_an_outcome_concludes_the_case_and_nothing_follows_it(result):
    extra = {"agreement": "双方同意赔偿500元"} if result == "agreement" else {}
    done = conclude(opened(), result, **extra).case
    assert done.status == result and done.concluded and done.concluded_at
    with pytest.raises(Conflict):
        conclude(done, "withdrawn")
    with pytest.raises(Conflict):
        m.add_session(done, NOW, None, "mediator@210902.center", NOW)


def test_an_agreement_needs_its_text_and_only_an_agreement_carries_one():
    with pytest.raises(InvalidInput) as err:
        conclude(opened(), "agreement")
    assert err.value.field == "agreement"
    with pytest.raises(InvalidInput) as err:
        conclude(opened(), "withdrawn", judicial_confirmation=True)
    assert err.value.field == "agreement"


def test_only_a_failed_case_is_referred_to_court():
    failed = conclude(opened(), "failed", referred_to_court="210902.court").case
    assert failed.referred_to_court == "210902.court"
    assert "人民法院" in m.petition_reply(failed, None)
    with pytest.raises(InvalidInput) as err:
        conclude(opened(), "withdrawn", referred_to_court="210902.court")
    assert err.value.field == "referred_to_court"


def test_an_unknown_result_is_refused():
    with pytest.raises(InvalidInput) as err:
        conclude(opened(), "settled_somehow")
    assert err.value.field == "result"


def test_the_table_names_every_action_and_only_open_cases_move():
    assert set(m.RULES) == {"open", "session", "outcome"}
    assert m.RULES["session"][0] == m.RULES["outcome"][0] == ("open",)
    assert set(m.STATUSES) == {"open", *m.CONCLUDED}


def test_figures_count_agreements_over_concluded_with_pre_litigation_apart():
    cases = [
        conclude(opened(id="A", kind="family"), "agreement", agreement="和好").case,
        conclude(opened(id="B", kind="family"), "failed").case,
        opened(id="C", kind="labour"),  # still open: a case, not concluded
        conclude(
            opened(id="D", unit="210902.court", mediator="mediator@210902.court", pre_litigation=True),
            "agreement",
            agreement="分期还款",
        ).case,
    ]
    out = figures(cases)
    total = out["mediation"]["total"]
    assert (total["cases"], total["concluded"], total["agreements"]) == (3, 2, 1)
    assert total["success_rate"] == {"value": 0.5, "numerator": 1, "denominator": 2}
    assert out["mediation"]["by_kind"]["labour"]["success_rate"]["value"] is None
    assert set(out["mediation"]["by_center"]) == {"210902.center"}
    pre = out["pre_litigation"]
    assert pre["total"]["success_rate"] == {"value": 1.0, "numerator": 1, "denominator": 1}
    assert set(pre["by_mediator"]) == {"mediator@210902.court"}
