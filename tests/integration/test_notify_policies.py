"""Example SNS subscriptions (CONTRACT §7): the template, the code and SNS agree on who gets what.

(a) infra/template.yaml declares one ``AWS::SNS::Subscription`` per entry of
    ``EXAMPLE_FILTER_POLICIES``, on the topic ``EXAMPLE_POLICY_TOPICS`` names, with
    exactly that filter policy — infra and code cannot drift.
(b) The attributes the product really publishes — made by the pure domain
    (``new_petition``/``apply``) and the SLA ladder (``fire_due``), turned into SNS
    ``MessageAttributes`` by the real publisher adapter — reach exactly the
    subscriptions they should, by ``topics.matches``.
(c) The same messages published through the live local stack's topics (created by
    moto's CloudFormation) to SQS queues subscribed with the template's filter
    policies: moto's own filter evaluation delivers them where ``matches`` says.
    moto's CloudFormation has no ``AWS::SNS::Subscription``, so the test subscribes
    through the SNS API with the policies read from the template.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from cfnlint.decode import decode_str

from chalicelib.auth.identity import CHANNEL, OPERATOR, Identity
from chalicelib.directory import DEMO_DIRECTORY
from chalicelib.directory.loader import load_directory
from chalicelib.notify.sns import SnsPort
from chalicelib.petitions.domain import Env, Petition, apply, new_petition
from chalicelib.settings import Settings, get_settings
from chalicelib.sla import ladder
from chalicelib.timing.calendar import WorkingCalendar
from chalicelib.timing.policy import Policy
from tests.sns_policies import EXAMPLE_FILTER_POLICIES, EXAMPLE_POLICY_TOPICS, matches, topic_for

ROOT = Path(__file__).resolve().parents[2]
SH = ZoneInfo("Asia/Shanghai")

DIRECTORY = load_directory(DEMO_DIRECTORY)
DEMO_CITY = DIRECTORY.city
POLICY = Policy.bundled()
CALENDAR = WorkingCalendar.bundled()
START = datetime(2025, 3, 3, 9, 0, tzinfo=SH)  # a Monday, a working day

TOPIC_RESOURCE = {"orders": "OrdersTopic", "supervision": "SupervisionTopic"}
CONDITION = "ExampleSubscriptionsEnabled"

DUTY = "department_duty_phone_210902_housing"
CHIEF = "chief_210902"
CITY = "city_chief"
SUPERVISOR = "supervisor_210902"


# ---------------------------------------------------------------- (a) template ↔ code


def load_template() -> dict:
    template, problems = decode_str((ROOT / "infra" / "template.yaml").read_text(encoding="utf-8"))
    assert not problems, problems
    return json.loads(json.dumps(template))  # plain dicts, intrinsic functions in long form


def example_subscriptions(template: dict) -> dict[str, dict]:
    """Policy name (from the resource's Metadata) → the subscription resource."""
    out: dict[str, dict] = {}
    for logical, res in template["Resources"].items():
        if res["Type"] != "AWS::SNS::Subscription":
            continue
        name = res.get("Metadata", {}).get("FztExamplePolicy")
        assert name, f"{logical} names no example policy in Metadata.FztExamplePolicy"
        assert name not in out, f"two subscriptions for {name}"
        out[name] = res
    return out


def test_template_has_one_subscription_per_example_policy_with_the_same_filter():
    subscriptions = example_subscriptions(load_template())
    assert set(subscriptions) == set(EXAMPLE_FILTER_POLICIES)
    for name, res in subscriptions.items():
        props = res["Properties"]
        assert props["FilterPolicy"] == EXAMPLE_FILTER_POLICIES[name], name
        assert props["FilterPolicyScope"] == "MessageAttributes", name
        assert props["TopicArn"] == {"Ref": TOPIC_RESOURCE[EXAMPLE_POLICY_TOPICS[name]]}, name
        assert props["Protocol"] == {"Ref": "ExampleSubscriptionProtocol"}, name
        assert set(props["Endpoint"]) == {"Ref"}, name


def test_example_subscriptions_are_off_unless_asked_for():
    template = load_template()
    params = template["Parameters"]
    assert params["CreateExampleSubscriptions"]["Default"] == "false"
    assert template["Conditions"][CONDITION] == {
        "Fn::Equals": [{"Ref": "CreateExampleSubscriptions"}, "true"]
    }
    for name, res in example_subscriptions(template).items():
        assert res.get("Condition") == CONDITION, name
        endpoint = params[res["Properties"]["Endpoint"]["Ref"]]
        assert endpoint["Type"] == "String" and endpoint["Default"], name


# ---------------------------------------------------------------- (b) the product's attributes


def who(name: str) -> Identity:
    if name == "wechat":
        return Identity(kind=CHANNEL, name="wechat", role="channel")
    user = DIRECTORY.user(name)
    assert user is not None, name
    return Identity(
        kind=OPERATOR, name=user.username, role=user.role, district=user.district, department=user.department
    )


def env_at(now: datetime) -> Env:
    return Env(now=now, directory=DIRECTORY, policy=POLICY, calendar=CALENDAR)


def petition(pid: str, district: str, now: datetime = START) -> Petition:
    outcome = new_petition(
        id=pid,
        channel="wechat",
        district=district,
        content="小区楼道照明损坏，夜间上下楼不安全",
        env=env_at(now),
        identity=who("wechat"),
        priority="normal",
        title="楼道照明",
        category=None,
        anonymous=True,
        contact={},
        location=None,
        channel_ref=None,
        reported_by=None,
    )
    return outcome.petition


def act(p: Petition, action: str, actor: str, payload: dict, now: datetime):
    return apply(p, action, who(actor), payload, env_at(now))


def topic_notes(outcome) -> list[dict]:
    return [n for n in outcome.notifications if n["channel"] == "topic"]


def overdue(p: Petition) -> list[dict]:
    """The ladder's notices for ``p`` once its stage is past the city step (due + 3 working days)."""
    planned = ladder.steps(p, env_at(START))
    assert len(planned) == 4
    outcome = ladder.fire_due(p, env_at(planned[-1].at + timedelta(minutes=1)))
    assert outcome is not None
    notes = topic_notes(outcome)
    assert [(n["kind"], n["attributes"]["level"]) for n in notes] == [
        ("reminder", "district"),
        ("supervision_notice", "district"),
        ("escalation", "city" if p.district == DEMO_CITY else "district"),
        ("escalation", "city"),
    ]
    return notes


def scenario() -> list[tuple[str, dict, set[str]]]:
    """(label, the notification as the domain made it, the example subscriptions it must reach)."""
    later = START + timedelta(hours=1)
    cases: list[tuple[str, dict, set[str]]] = []

    # 210902: dispatched to urban with housing as co-department (协办), then transferred to housing.
    p1 = petition("FZ2025NP0001", "210902")
    out = act(
        p1,
        "dispatch",
        "dispatcher@210902",
        {"department": "210902.urban", "co_departments": ["210902.housing"]},
        START,
    )
    lead, co = topic_notes(out)
    cases += [("new order to 210902.urban", lead, set()), ("co-order to 210902.housing", co, {DUTY})]
    out = act(
        out.petition,
        "transfer",
        "dispatcher@210902",
        {"department": "210902.housing", "reason": "职能不符"},
        later,
    )
    (transferred,) = topic_notes(out)
    cases.append(("transferred to 210902.housing", transferred, {DUTY}))

    # 210902: dispatched to housing, which returns it (the department sent it back: no page to itself).
    p2 = petition("FZ2025NP0002", "210902")
    out = act(p2, "dispatch", "dispatcher@210902", {"department": "210902.housing"}, START)
    (new_order,) = topic_notes(out)
    cases.append(("new order to 210902.housing", new_order, {DUTY}))
    dispatched = out.petition
    out = act(dispatched, "return", "handler@210902.housing", {"reason": "function"}, later)
    (returned,) = topic_notes(out)
    cases.append(("returned by 210902.housing", returned, set()))

    # 210903: a housing order of another district does not reach 210902's duty phone.
    p3 = petition("FZ2025NP0003", "210903")
    (other,) = topic_notes(act(p3, "dispatch", "dispatcher@210903", {"department": "210903.housing"}, START))
    cases.append(("new order to 210903.housing", other, set()))

    # The SLA ladder, each stage overdue by more than 3 working days.
    expected = {
        "210902": [{SUPERVISOR}, {SUPERVISOR}, {SUPERVISOR, CHIEF}, {SUPERVISOR, CHIEF, CITY}],
        "210903": [set(), set(), set(), {CITY}],
        "210900": [set(), set(), {CITY}, {CITY}],
    }
    held = {
        "210902 dispatch desk": (petition("FZ2025NP0004", "210902"), expected["210902"]),
        # The accept stage held by 210902.housing: supervision messages, not the duty phone's orders.
        "210902.housing": (dispatched, expected["210902"]),
        "210903 dispatch desk": (petition("FZ2025NP0005", "210903"), expected["210903"]),
        "210900 dispatch desk": (petition("FZ2025NP0006", "210900"), expected["210900"]),
    }
    for unit, (p, reach) in held.items():
        for note, want in zip(overdue(p), reach, strict=True):
            cases.append((f"{note['kind']} ({note['attributes']['level']}) for {unit}", note, want))
    return cases


CASES = scenario()
IDS = [label for label, _, _ in CASES]


def notification_id(index: int) -> str:
    return f"NTEST{index:04d}"


class Recorder:
    """Stands in for boto3's SNS client under the real ``SnsPort``: keeps what would be published."""

    def __init__(self) -> None:
        self.calls: list[dict] = []

    def publish(self, **kwargs):
        self.calls.append(kwargs)
        return {"MessageId": f"m{len(self.calls)}"}


def published_attributes(note: dict, nid: str, monkeypatch) -> dict:
    """The MessageAttributes ``SnsPort.publish_topic`` sends for ``note`` as the outbox delivers it."""
    recorder = Recorder()
    settings = Settings(topic_orders_arn="arn:orders", topic_supervision_arn="arn:supervision")
    SnsPort(settings, client=recorder).publish_topic(
        note["topic"], "text", {**note["attributes"], "notification_id": nid}
    )
    (call,) = recorder.calls
    assert call["TopicArn"] == f"arn:{note['topic']}"
    return call["MessageAttributes"]


def reached(note: dict, attributes: dict) -> set[str]:
    return {
        name
        for name, policy in EXAMPLE_FILTER_POLICIES.items()
        if EXAMPLE_POLICY_TOPICS[name] == note["topic"] and matches(policy, attributes)
    }


@pytest.mark.parametrize("index", range(len(CASES)), ids=IDS)
def test_published_attributes_reach_exactly_the_right_subscriptions(index, monkeypatch):
    label, note, want = CASES[index]
    assert note["topic"] == topic_for(note["kind"]), label
    attributes = published_attributes(note, notification_id(index), monkeypatch)
    assert attributes["kind"] == {"DataType": "String", "StringValue": note["kind"]}
    assert attributes["notification_id"] == {"DataType": "String", "StringValue": notification_id(index)}
    assert reached(note, attributes) == want, label


def test_the_scenario_covers_every_example_subscription_both_ways():
    """Each example subscription is reached by some message and passed over by some other on its topic."""
    for name, topic in EXAMPLE_POLICY_TOPICS.items():
        on_topic = [want for _, note, want in CASES if note["topic"] == topic]
        assert any(name in want for want in on_topic), name
        assert any(name not in want for want in on_topic), name


# ---------------------------------------------------------------- (c) moto's SNS with the live stack


@pytest.fixture
def subscribed_queues(stack):
    """One SQS queue per example subscription, subscribed to the stack's topic with the template's policy."""
    from chalicelib import aws
    from chalicelib.settings import get_settings

    settings = get_settings()
    arns = {"orders": settings.topic_orders_arn, "supervision": settings.topic_supervision_arn}
    assert all(arns.values()), "the stack exported no topic ARNs"
    sns, sqs = aws.client("sns"), aws.client("sqs")
    subscriptions = example_subscriptions(load_template())
    queues: dict[str, str] = {}
    subscription_arns: list[str] = []
    try:
        for name, res in subscriptions.items():
            url = sqs.create_queue(QueueName=f"fzt-example-{name.replace('_', '-')}")["QueueUrl"]
            queues[name] = url
            queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
                "QueueArn"
            ]
            props = res["Properties"]
            topic = {v: k for k, v in TOPIC_RESOURCE.items()}[props["TopicArn"]["Ref"]]
            r = sns.subscribe(
                TopicArn=arns[topic],
                Protocol="sqs",
                Endpoint=queue_arn,
                Attributes={
                    "FilterPolicy": json.dumps(props["FilterPolicy"]),
                    "FilterPolicyScope": props["FilterPolicyScope"],
                },
                ReturnSubscriptionArn=True,
            )
            subscription_arns.append(r["SubscriptionArn"])
            attrs = sns.get_subscription_attributes(SubscriptionArn=r["SubscriptionArn"])["Attributes"]
            assert json.loads(attrs["FilterPolicy"]) == EXAMPLE_FILTER_POLICIES[name]
        yield queues
    finally:
        for arn in subscription_arns:
            sns.unsubscribe(SubscriptionArn=arn)
        for url in queues.values():
            sqs.delete_queue(QueueUrl=url)


def drain_queue(sqs, url: str) -> list[dict]:
    bodies: list[dict] = []
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get(
            "Messages", []
        )
        if not messages:
            return bodies
        for m in messages:
            bodies.append(json.loads(m["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])


def test_moto_sns_delivers_the_published_messages_where_the_policies_say(subscribed_queues):
    from chalicelib import aws

    sqs = aws.client("sqs")
    port = SnsPort(get_settings())  # the real adapter, publishing to the stack's topics
    for index, (_, note, _) in enumerate(CASES):
        port.publish_topic(
            note["topic"],
            f"test message {index}",
            {**note["attributes"], "notification_id": notification_id(index)},
        )

    delivered: dict[str, set[str]] = {}
    for name, url in subscribed_queues.items():
        for body in drain_queue(sqs, url):
            attributes = body["MessageAttributes"]  # as delivered: {"Type", "Value"}
            assert matches(EXAMPLE_FILTER_POLICIES[name], attributes), (name, attributes)
            delivered.setdefault(attributes["notification_id"]["Value"], set()).add(name)

    for index, (label, _, want) in enumerate(CASES):
        assert delivered.get(notification_id(index), set()) == want, label
