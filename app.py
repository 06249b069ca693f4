"""Fuzhengtong (阜政通) — the routing table.

Each view parses (through the Router), calls one chalicelib function, returns.
Function names become Lambda names for schedules: name them by purpose.
"""

from chalice import Cron, Rate

from chalicelib import constants
from chalicelib.api import schemas as s
from chalicelib.api.http import (
    Audience,
    Router,
    ThreadLocalChalice,
    idempotency_key,
    json_response,
    source_ip,
)
from chalicelib.auth import OPERATOR_ROLES
from chalicelib.auth.signin import me, signin_options
from chalicelib.console import console_bp
from chalicelib.directory import service as directory_service
from chalicelib.intake.models import CitizenPetitionIn, PetitionIn
from chalicelib.local import controls
from chalicelib.mobile import mobile_bp
from chalicelib.open311 import blueprint as open311_blueprint
from chalicelib.petitions import schemas as ps
from chalicelib.petitions.machine import RULES
from chalicelib.runtime import get_runtime as rt
from chalicelib.runtime import observed

app = ThreadLocalChalice(app_name=constants.APP_NAME)
api = Router(
    app,
    lambda request: rt().identify(request.headers),
    lambda: rt().settings.is_local,
    observe=lambda *a, **kw: rt().observed(*a, **kw),
)
app.register_blueprint(console_bp)  # the operators' console at /console/ (static, same origin as the API)
app.register_blueprint(open311_blueprint(rt))  # Open311 GeoReport v2 at /open311/v2/ (CONTRACT §14)
app.register_blueprint(mobile_bp)  # the citizen entrance at /m/ (static, same origin as the API)

PUBLIC = Audience(public=True)
READERS = Audience(channels=True, roles=OPERATOR_ROLES)
OPERATORS = Audience(roles=OPERATOR_ROLES)
CHANNELS = Audience(channels=True)
CITIZENS = Audience(citizens=True)


# --- platform -----------------------------------------------------------------


@api.route("/health", summary="Liveness: 200 once the stack is ready", audience=PUBLIC, response=s.Health)
def health(ctx):
    rt().directory()  # ready means the directory is readable
    return {"status": "ok"}


@api.route("/openapi.json", summary="This document", audience=PUBLIC, response=dict)
def openapi_document(ctx):
    from chalicelib.api.openapi import build_openapi  # only this route needs the generator

    return build_openapi(include_local=rt().settings.is_local)


# --- directory (public) -----------------------------------------------------------


@api.route(
    "/v1/directory/districts",
    summary="Districts and counties",
    audience=PUBLIC,
    response=s.Items[s.DistrictOut],
    tags=("directory",),
)
def directory_districts(ctx):
    return directory_service.districts(rt().directory())


@api.route(
    "/v1/directory/departments",
    summary="Departments, optionally of one district",
    audience=PUBLIC,
    query=s.DistrictQuery,
    response=s.Items[s.DepartmentOut],
    tags=("directory",),
)
def directory_departments(ctx):
    return directory_service.departments(rt().directory(), ctx.query.district)


@api.route(
    "/v1/directory/chiefs",
    summary="首席办事员: the chief handlers, as announced to the public (CONTRACT §12)",
    audience=PUBLIC,
    response=s.Items[s.ChiefOut],
    tags=("directory",),
)
def directory_chiefs(ctx):
    return directory_service.chiefs(rt().directory())


@api.route(
    "/v1/categories",
    summary="The petition category taxonomy",
    audience=PUBLIC,
    response=s.Items[s.CategoryOut],
    tags=("directory",),
)
def directory_categories(ctx):
    return directory_service.categories(rt().directory())


@api.route(
    "/v1/grids",
    summary="Grids (网格), optionally of one district",
    audience=PUBLIC,
    query=s.DistrictQuery,
    response=s.Items[s.GridOut],
    tags=("directory",),
)
def directory_grids(ctx):
    return directory_service.grids(rt().directory(), ctx.query.district)


@api.route(
    "/v1/grids/{code}",
    summary="A grid's public board: workers, duties, supervision phone",
    audience=PUBLIC,
    response=s.GridBoard,
    errors=(404,),
    tags=("directory",),
)
def directory_grid_board(ctx):
    return directory_service.grid_board(rt().directory(), ctx.params["code"])


# --- sign-in -------------------------------------------------------------------------------


@api.route(
    "/v1/signin",
    summary="How operators sign in on this stage (the console reads it before anyone has signed in)",
    audience=PUBLIC,
    response=s.SignInOut,
    tags=("operators",),
)
def auth_signin_options(ctx):
    return signin_options(rt().settings)


@api.route(
    "/v1/me",
    summary="The signed-in operator: role and scope from the directory",
    audience=OPERATORS,
    response=s.MeOut,
    tags=("operators",),
)
def auth_me(ctx):
    return me(ctx.identity, rt().directory())


# --- petitions -----------------------------------------------------------------------------


@api.route(
    "/v1/petitions",
    "POST",
    summary="Submit a petition (channels)",
    audience=CHANNELS,
    body=PetitionIn,
    response=ps.PetitionOut,
    status=201,
    errors=(409,),
    tags=("petitions",),
    headers=(("Idempotency-Key", "the same key and body return the same petition"),),
)
def intake_create_petition(ctx):
    status, body = rt().intake.create(ctx.identity, ctx.body, idempotency_key(ctx))
    return json_response(body, status)


@api.route(
    "/v1/petitions",
    summary="Petitions in the caller's scope, newest first",
    audience=READERS,
    query=ps.ListQuery,
    response=ps.PetitionPage,
    errors=(404,),
    tags=("petitions",),
)
def petitions_list(ctx):
    return rt().petitions.list_petitions(ctx.identity, ctx.query)


@api.route(
    "/v1/petitions/{id}",
    summary="A petition with its timeline, stage, due time and SLA state",
    audience=READERS,
    response=ps.PetitionOut,
    errors=(404,),
    tags=("petitions",),
)
def petitions_get(ctx):
    return rt().petitions.get(ctx.identity, ctx.params["id"])


@api.route(
    "/v1/track/{id}",
    summary="Public status for the citizen (no personal data)",
    audience=PUBLIC,
    query=ps.TrackQuery,
    response=ps.TrackOut,
    errors=(404, 429),
    tags=("petitions",),
)
def petitions_track(ctx):
    return rt().petitions.track(ctx.params["id"], ctx.query.phone_tail, source_ip(ctx))


def _action_view(action: str):
    def view(ctx):
        return rt().petitions.act(
            ctx.identity, ctx.params["id"], action, ctx.body.model_dump(exclude_none=True)
        )

    view.__name__ = "petitions_" + action.replace("/", "_")
    return view


for _action, _body in ps.ACTION_BODIES.items():
    _roles = RULES[_action].roles
    api.route(
        f"/v1/petitions/{{id}}/{_action}",
        "POST",
        summary=ps.ACTION_SUMMARIES[_action],
        audience=Audience(channels="channel" in _roles, roles=tuple(r for r in _roles if r != "channel")),
        body=_body,
        response=ps.PetitionOut,
        errors=(404, 409),
        tags=("actions",),
    )(_action_view(_action))


# --- citizens (the mini program's page /m/) and the front desk ---------------------------------------


@api.route(
    "/v1/citizen/otp",
    "POST",
    summary="Send a 6-digit sign-in code by SMS (valid 5 minutes; 1 a minute, 10 an hour per phone)",
    audience=PUBLIC,
    body=s.CitizenOtpIn,
    response=s.CitizenOtpOut,
    status=202,
    errors=(429,),
    tags=("citizens",),
)
def citizen_send_code(ctx):
    return json_response(rt().citizens.send_code(ctx.body.phone), 202)


@api.route(
    "/v1/citizen/session",
    "POST",
    summary="Trade the SMS code for a citizen session (5 tries; the 6th locks the code)",
    audience=PUBLIC,
    body=s.CitizenSessionIn,
    response=s.CitizenSessionOut,
    errors=(401,),
    tags=("citizens",),
)
def citizen_sign_in(ctx):
    return rt().citizens.sign_in(ctx.body.phone, ctx.body.code)


@api.route(
    "/v1/citizen/petitions",
    "POST",
    summary="File a petition in the signed-in citizen's name (channel wechat; the phone from the session)",
    audience=CITIZENS,
    body=CitizenPetitionIn,
    response=ps.PetitionOut,
    status=201,
    errors=(409,),
    tags=("citizens",),
    headers=(("Idempotency-Key", "the same key and body return the same petition"),),
)
def citizen_file_petition(ctx):
    body = ctx.body.model_dump(exclude_none=True)
    status, out = rt().citizens.file(ctx.identity, body, idempotency_key(ctx))
    return json_response(out, status)


@api.route(
    "/v1/citizen/petitions",
    summary="我的诉求: the petitions of the signed-in citizen's phone, newest first",
    audience=CITIZENS,
    response=ps.PetitionPage,
    tags=("citizens",),
)
def citizen_my_petitions(ctx):
    return rt().citizens.mine(ctx.identity)


@api.route(
    "/v1/citizen/petitions/{id}",
    summary="One of the citizen's own petitions with its timeline (another phone's: 404)",
    audience=CITIZENS,
    response=ps.PetitionOut,
    errors=(404,),
    tags=("citizens",),
)
def citizen_petition(ctx):
    return rt().citizens.one(ctx.identity, ctx.params["id"])


@api.route(
    "/v1/citizen/petitions/{id}/feedback",
    "POST",
    summary="Rate a closed petition, or a merged one's main outcome (并单): once each",
    audience=CITIZENS,
    body=ps.FeedbackIn,
    response=ps.PetitionOut,
    errors=(404, 409),
    tags=("citizens",),
)
def citizen_rate(ctx):
    return rt().citizens.rate(ctx.identity, ctx.params["id"], ctx.body.model_dump(exclude_none=True))


@api.route(
    "/v1/desk/petitions",
    "POST",
    summary="首接首办: a window or 12345 desk registers a petition; its unit answers for it to the end",
    audience=Audience(roles=("desk",)),
    body=PetitionIn,
    response=ps.PetitionOut,
    status=201,
    errors=(403, 409),
    tags=("petitions",),
    headers=(("Idempotency-Key", "the same key and body return the same petition"),),
)
def intake_desk_petition(ctx):
    status, body = rt().intake.register(ctx.identity, ctx.body, idempotency_key(ctx))
    return json_response(body, status)


@api.route(
    "/v1/violations",
    summary="问责记录: violations per unit or district",
    query=ps.ViolationsQuery,
    audience=Audience(roles=("handler", "supervisor", "chief", "auditor", "admin", "dispatcher", "reviewer")),
    response=ps.ViolationPage,
    errors=(404,),
    tags=("supervision",),
)
def sla_violations(ctx):
    return rt().violations(ctx.identity, ctx.query)


@api.route(
    "/v1/notifications/attention",
    summary="Notifications a person must check: dead, or SMS unconfirmed after a crash (newest first)",
    query=s.AttentionQuery,
    audience=Audience(roles=("supervisor", "chief", "auditor", "admin")),
    response=s.AttentionPage,
    errors=(404,),
    tags=("supervision",),
)
def notify_attention(ctx):
    return rt().attention(ctx.identity, ctx.query.district)


@api.route(
    "/v1/stats",
    summary="The three rates and friends over a window, in the caller's scope",
    audience=Audience(roles=OPERATOR_ROLES),
    query=ps.StatsQuery,
    response=ps.StatsOut,
    errors=(404,),
    tags=("figures",),
)
def stats_figures(ctx):
    return rt().stats.stats(ctx.identity, ctx.query)


@api.route(
    "/v1/exports",
    "POST",
    summary="Export petitions, events, notifications and violations as Parquet now",
    audience=Audience(roles=("auditor", "admin")),
    response=s.ExportOut,
    tags=("audit",),
)
def audit_export(ctx):
    return rt().export()


@api.route(
    "/v1/admin/calendar",
    "POST",
    summary="Load a year's State Council holiday notice; recompute deadlines",
    audience=Audience(roles=("admin",)),
    body=s.CalendarNoticeIn,
    response=s.CalendarLoaded,
    tags=("admin",),
)
def sla_load_calendar(ctx):
    return rt().load_calendar_notice(ctx.body.model_dump())


# --- local controls (stage local only) ------------------------------------------------


@api.route(
    "/_local/clock",
    summary="The stack's clock",
    audience=PUBLIC,
    response=s.ClockOut,
    local_only=True,
    tags=("local",),
)
def local_clock(ctx):
    return controls.clock_now(rt().clock)


@api.route(
    "/_local/clock",
    "POST",
    summary="Move the clock forward",
    audience=PUBLIC,
    body=s.ClockIn,
    response=s.ClockOut,
    errors=(409,),
    local_only=True,
    tags=("local",),
)
def local_move_clock(ctx):
    return controls.move_clock(rt().clock, ctx.body.advance_seconds, ctx.body.set)


@api.route(
    "/_local/sweep",
    "POST",
    summary="Run the SLA sweep once now",
    audience=PUBLIC,
    response=s.SweepOut,
    local_only=True,
    tags=("local",),
)
def local_sweep(ctx):
    return rt().run_sweep()


@api.route(
    "/_local/outbox",
    summary="Every SNS publish so far",
    audience=PUBLIC,
    query=s.OutboxQuery,
    response=list[s.OutboxEntry],
    local_only=True,
    tags=("local",),
)
def local_outbox(ctx):
    return controls.outbox(ctx.query.to)


@api.route(
    "/_local/token",
    "POST",
    summary="A bearer token for a seeded operator",
    audience=PUBLIC,
    body=s.TokenIn,
    response=s.TokenOut,
    errors=(404,),
    local_only=True,
    tags=("local",),
)
def local_token(ctx):
    return controls.token_for(ctx.body.user, rt().directory(), rt().settings)


@api.route(
    "/_local/sms/inbound",
    "POST",
    summary="A citizen's SMS reply (1/2/3), as SNS two-way SMS delivers it",
    audience=PUBLIC,
    body=s.InboundSmsIn,
    response=s.InboundSmsOut,
    local_only=True,
    tags=("local",),
)
def local_inbound_sms(ctx):
    return rt().inbound.handle_reply(ctx.body.from_, ctx.body.text)


# --- schedules and subscriptions ----------------------------------------------------------------


@app.schedule(Cron(30, 16, "*", "*", "?", "*"))  # 00:30 Asia/Shanghai: yesterday complete
@observed("audit_daily_export")
def audit_daily_export(event):
    return rt().export()


@app.schedule(Rate(1, unit=Rate.MINUTES))
@observed("sla_sweep")
def sla_sweep(event):
    return rt().run_sweep()


@app.on_sns_message(topic=constants.INBOUND_SMS_TOPIC)
@observed("notify_inbound_sms")
def notify_inbound_sms(event):
    """SNS two-way SMS: the reply's originationNumber and messageBody arrive as JSON."""
    import json

    reply = json.loads(event.message)
    return rt().inbound.handle_reply(reply.get("originationNumber", ""), reply.get("messageBody", ""))
