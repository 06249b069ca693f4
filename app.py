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
from chalicelib.center import schemas as cs
from chalicelib.console import console_bp
from chalicelib.directory import service as directory_service
from chalicelib.foresight import schemas as fs
from chalicelib.grid import schemas as gs
from chalicelib.intake.models import CitizenPetitionIn, PetitionIn
from chalicelib.local import controls
from chalicelib.mobile import mobile_bp
from chalicelib.open311 import blueprint as open311_blueprint
from chalicelib.petitions import schemas as ps
from chalicelib.petitions.machine import RULES
from chalicelib.runtime import get_runtime as rt
from chalicelib.runtime import observed
from chalicelib.supervision import schemas as sv

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
    "/v1/grids/locate",
    summary="The smallest grid containing a point (404 outside every grid)",
    audience=PUBLIC,
    query=gs.LocateQuery,
    response=gs.LocateOut,
    errors=(404,),
    tags=("directory",),
)
def grid_locate(ctx):
    return rt().grid.locate(ctx.query.lat, ctx.query.lon)


@api.route(
    "/v1/grids/{code}",
    summary="A grid's public board: workers (with photo), duties, supervision phone, 楼栋长 (masked)",
    audience=PUBLIC,
    response=gs.GridBoardOut,
    errors=(404,),
    tags=("directory",),
)
def directory_grid_board(ctx):
    return rt().grid.board(ctx.params["code"])


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
    "/v1/violations/{id}",
    summary="A violation with its accountability history (提醒/约谈/移送纪委)",
    audience=Audience(roles=("handler", "supervisor", "chief", "auditor", "admin", "dispatcher", "reviewer")),
    response=sv.ViolationDetail,
    errors=(404,),
    tags=("supervision",),
)
def supervision_violation(ctx):
    return rt().supervision.violation(ctx.identity, ctx.params["id"])


@api.route(
    "/v1/violations/{id}/actions",
    "POST",
    summary="问责跟进: 提醒/约谈/移送纪委 on a violation — its history, a notice to the unit, the timeline",
    audience=Audience(roles=("supervisor", "chief")),
    body=sv.AccountabilityIn,
    response=sv.ViolationDetail,
    status=201,
    errors=(404, 409),
    tags=("supervision",),
)
def supervision_account(ctx):
    out = rt().supervision.account(ctx.identity, ctx.params["id"], ctx.body.model_dump(exclude_none=True))
    return json_response(out, 201)


@api.route(
    "/v1/board",
    summary="首席办事员: the chief's board — key cases, escalations to them, their instructions",
    audience=Audience(roles=("chief",)),
    response=sv.BoardOut,
    tags=("supervision",),
)
def supervision_board(ctx):
    return rt().supervision.board(ctx.identity)


@api.route(
    "/v1/assessments",
    summary="年度考核: a district's units over a year — rates, violations, urges, actions, score and reasons",
    audience=Audience(roles=("supervisor", "chief", "auditor", "admin")),
    query=sv.AssessmentQuery,
    response=sv.AssessmentOut,
    errors=(404,),
    tags=("supervision",),
)
def supervision_assessments(ctx):
    return rt().supervision.assessment(ctx.identity, ctx.query.year, ctx.query.district)


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
    summary="Start an export of petitions, events, notifications and violations as Parquet (a job)",
    audience=Audience(roles=("auditor", "admin")),
    response=s.ExportJobOut,
    status=202,
    tags=("audit",),
)
def audit_export(ctx):
    return rt().export_jobs.request(ctx.identity.name)


@api.route(
    "/v1/exports/{id}",
    summary="An export job's state: queued, running, done (with where and how many rows), failed",
    audience=Audience(roles=("auditor", "admin")),
    response=s.ExportJobOut,
    errors=(404,),
    tags=("audit",),
)
def audit_export_job(ctx):
    return rt().export_jobs.status(ctx.params["id"])


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


# --- seeing ahead: typical cases, publicity broadcasts, hotspots (CONTRACT §13) ------------------------

CASE_MARKERS = Audience(roles=("supervisor", "admin"))
ADMINS = Audience(roles=("admin",))


@api.route(
    "/v1/cases/typical",
    "POST",
    summary="典型案例: mark a closed petition as a typical case (published anonymised)",
    audience=CASE_MARKERS,
    body=fs.TypicalCaseIn,
    response=fs.TypicalCaseOut,
    status=201,
    errors=(404, 409),
    tags=("foresight",),
)
def foresight_mark_case(ctx):
    return json_response(rt().cases.mark(ctx.identity, ctx.body), 201)


@api.route(
    "/v1/cases/typical",
    summary="典型案例 for operators: the caller's districts, with the petition, typical or withdrawn",
    audience=Audience(roles=("supervisor", "chief", "admin")),
    response=fs.TypicalCases,
    tags=("foresight",),
)
def foresight_list_cases(ctx):
    return rt().cases.listed(ctx.identity)


@api.route(
    "/v1/cases/typical/{id}/unmark",
    "POST",
    summary="Withdraw a typical case from the public list (the record stays, status withdrawn)",
    audience=CASE_MARKERS,
    response=fs.TypicalCaseOut,
    errors=(404,),
    tags=("foresight",),
)
def foresight_unmark_case(ctx):
    return rt().cases.unmark(ctx.identity, ctx.params["id"])


@api.route(
    "/v1/public/cases",
    summary="典型案例 for the public: no names, phones, ID numbers or house numbers",
    audience=PUBLIC,
    response=fs.PublicCases,
    tags=("foresight",),
)
def foresight_public_cases(ctx):
    return rt().cases.public()


@api.route(
    "/v1/broadcasts/estimate",
    "POST",
    summary="发一封短信, first the price: segments × recipients × segment price; time at the throttle",
    audience=ADMINS,
    body=fs.BroadcastIn,
    response=fs.BroadcastEstimate,
    tags=("foresight",),
)
def foresight_estimate_broadcast(ctx):
    return rt().broadcasts.estimate(ctx.identity, ctx.body)


@api.route(
    "/v1/broadcasts",
    "POST",
    summary="发一封短信: a publicity SMS to every phone that used the platform and did not reply TD",
    audience=ADMINS,
    body=fs.BroadcastIn,
    response=fs.BroadcastOut,
    status=201,
    tags=("foresight",),
)
def foresight_create_broadcast(ctx):
    return json_response(rt().broadcasts.create(ctx.identity, ctx.body), 201)


@api.route(
    "/v1/broadcasts",
    summary="The broadcasts, newest first, with their progress",
    audience=ADMINS,
    response=fs.BroadcastPage,
    tags=("foresight",),
)
def foresight_list_broadcasts(ctx):
    return rt().broadcasts.list(ctx.identity)


@api.route(
    "/v1/broadcasts/{id}",
    summary="A broadcast's progress: sent, failed, opted_out, remaining, cost",
    audience=ADMINS,
    response=fs.BroadcastOut,
    errors=(404,),
    tags=("foresight",),
)
def foresight_broadcast(ctx):
    return rt().broadcasts.get(ctx.identity, ctx.params["id"])


@api.route(
    "/v1/hotspots",
    summary="未诉先办: hotspots (grid × category bursts) in the caller's scope, newest first",
    audience=Audience(roles=("dispatcher", "supervisor", "chief", "auditor", "admin")),
    query=fs.HotspotQuery,
    response=fs.HotspotPage,
    errors=(404,),
    tags=("foresight",),
)
def foresight_hotspots(ctx):
    return rt().hotspots.list(ctx.identity, ctx.query.district)


@api.route(
    "/v1/hotspots/{id}/case",
    "POST",
    summary="Open a proactive petition for a hotspot; matching petitions are merged into it (并单)",
    audience=Audience(roles=("dispatcher",)),
    body=fs.HotspotCaseIn,
    response=fs.HotspotOut,
    errors=(404, 409),
    tags=("foresight",),
)
def foresight_hotspot_case(ctx):
    return rt().hotspots.case(ctx.identity, ctx.params["id"], ctx.body)


# --- the service center: stationed units, mediation (调解), 逢六说事 meetings (CONTRACT §11) --------------

MEDIATION_OPENERS = Audience(roles=("mediator", "desk", "dispatcher"))
MEDIATORS = Audience(roles=("mediator",))
MEDIATION_READERS = Audience(
    roles=("mediator", "desk", "dispatcher", "reviewer", "supervisor", "chief", "auditor", "admin")
)
MEETING_HOSTS = Audience(roles=("desk", "dispatcher", "grid_worker"))


@api.route(
    "/v1/centers/{district}",
    summary="A district's 社会治理综合服务中心 and the units stationed there (court, 信访, 人民调解 …)",
    audience=PUBLIC,
    response=cs.CenterOut,
    errors=(404,),
    tags=("center",),
)
def center_units(ctx):
    return rt().center.center(ctx.params["district"])


@api.route(
    "/v1/mediations",
    "POST",
    summary="Open a mediation case (调解) for a center's or a court's mediator; parties' data sealed",
    audience=MEDIATION_OPENERS,
    body=cs.MediationIn,
    response=cs.MediationOut,
    status=201,
    errors=(403, 404, 409),
    tags=("center",),
)
def center_open_mediation(ctx):
    return json_response(rt().center.open_mediation(ctx.identity, ctx.body.model_dump()), 201)


@api.route(
    "/v1/mediations",
    summary="Mediation cases in scope: a mediator's own center's or court's, else the district's (masked)",
    audience=MEDIATION_READERS,
    query=cs.MediationsQuery,
    response=cs.MediationPage,
    errors=(404,),
    tags=("center",),
)
def center_list_mediations(ctx):
    return rt().center.list_mediations(ctx.identity, ctx.query)


@api.route(
    "/v1/mediations/{id}",
    summary="A mediation case with its sessions, outcome and timeline",
    audience=MEDIATION_READERS,
    response=cs.MediationOut,
    errors=(404,),
    tags=("center",),
)
def center_get_mediation(ctx):
    return rt().center.get_mediation(ctx.identity, ctx.params["id"])


@api.route(
    "/v1/mediations/{id}/sessions",
    "POST",
    summary="Schedule a mediation session; every party gets an SMS with the time and place",
    audience=MEDIATORS,
    body=cs.SessionIn,
    response=cs.MediationOut,
    errors=(404, 409),
    tags=("center",),
)
def center_add_session(ctx):
    return rt().center.add_session(ctx.identity, ctx.params["id"], ctx.body.model_dump(exclude_none=True))


@api.route(
    "/v1/mediations/{id}/outcome",
    "POST",
    summary="The outcome: agreement (a linked petition is resolved), failed (maybe to court) or withdrawn",
    audience=MEDIATORS,
    body=cs.OutcomeIn,
    response=cs.MediationOut,
    errors=(404, 409),
    tags=("center",),
)
def center_conclude_mediation(ctx):
    return rt().center.conclude(ctx.identity, ctx.params["id"], ctx.body.model_dump(exclude_none=True))


@api.route(
    "/v1/stats/mediation",
    summary="调解 figures: cases, concluded, success rate per center, mediator, kind; 诉前调解 apart",
    audience=MEDIATION_READERS,
    query=cs.MediationStatsQuery,
    response=cs.MediationStatsOut,
    errors=(404,),
    tags=("figures",),
)
def center_mediation_stats(ctx):
    return rt().center.stats(ctx.identity, ctx.query)


@api.route(
    "/v1/meetings",
    "POST",
    summary="逢六说事: record a community grid's meeting",
    audience=MEETING_HOSTS,
    body=cs.MeetingIn,
    response=cs.MeetingOut,
    status=201,
    errors=(403,),
    tags=("center",),
)
def center_create_meeting(ctx):
    return json_response(rt().center.create_meeting(ctx.identity, ctx.body.model_dump()), 201)


@api.route(
    "/v1/meetings",
    summary="A grid's 逢六说事 meetings, newest first, with their issues and how many were solved that day",
    audience=OPERATORS,
    query=cs.MeetingsQuery,
    response=cs.MeetingPage,
    errors=(404,),
    tags=("center",),
)
def center_list_meetings(ctx):
    return rt().center.list_meetings(ctx.identity, ctx.query.grid)


@api.route(
    "/v1/meetings/{id}/issues",
    "POST",
    summary="An issue raised at a meeting becomes a petition (channel meeting) linked to it",
    audience=MEETING_HOSTS,
    body=PetitionIn,
    response=ps.PetitionOut,
    status=201,
    errors=(403, 404, 409),
    tags=("center",),
)
def center_meeting_issue(ctx):
    status, body = rt().center.raise_issue(ctx.identity, ctx.params["id"], ctx.body)
    return json_response(body, status)


# --- the grid network at work (CONTRACT §10) ------------------------------------------------------

GRID_WORKERS = Audience(roles=("grid_worker",))


@api.route(
    "/v1/grid/petitions",
    "POST",
    summary="A grid worker files for a resident (channel grid), or resolves it there (resolved_on_spot)",
    audience=GRID_WORKERS,
    body=gs.GridPetitionIn,
    response=ps.PetitionOut,
    status=201,
    errors=(403, 409),
    tags=("grid",),
    headers=(("Idempotency-Key", "the same key and body return the same petition"),),
)
def grid_file_petition(ctx):
    status, body = rt().grid.file(ctx.identity, ctx.body, idempotency_key(ctx))
    return json_response(body, status)


@api.route(
    "/v1/grid/visits",
    "POST",
    summary="敲门行动: log a door-knock visit in the worker's grid (or one below it)",
    audience=GRID_WORKERS,
    body=gs.VisitIn,
    response=gs.VisitOut,
    status=201,
    errors=(403,),
    tags=("grid",),
)
def grid_log_visit(ctx):
    return json_response(rt().grid.visit(ctx.identity, ctx.body), 201)


@api.route(
    "/v1/grid/visits",
    summary="A grid's visits in a month (it and the grids below it), counted per worker",
    audience=Audience(roles=("grid_worker", "dispatcher", "supervisor", "chief", "auditor", "admin")),
    query=gs.VisitsQuery,
    response=gs.VisitsOut,
    errors=(404,),
    tags=("grid",),
)
def grid_visits(ctx):
    return rt().grid.visits(ctx.identity, ctx.query.grid, ctx.query.month)


@api.route(
    "/v1/uploads",
    "POST",
    summary="Evidence upload: a presigned PUT (JPEG, PNG or PDF, at most 10 MB) and its evidence key",
    audience=Audience(roles=("grid_worker", "handler", "desk", "mediator", "dispatcher")),
    body=gs.UploadIn,
    response=gs.UploadOut,
    status=201,
    tags=("grid",),
)
def grid_upload(ctx):
    return json_response(rt().grid.upload(ctx.identity, ctx.body.content_type, ctx.body.size), 201)


@api.route(
    "/v1/pool",
    summary="基层吹哨: the district's claim pool (待认领), soonest claim deadline first",
    audience=Audience(roles=("handler", "dispatcher", "supervisor", "grid_worker")),
    query=gs.PoolQuery,
    response=gs.PoolOut,
    errors=(404,),
    tags=("grid",),
)
def grid_pool(ctx):
    return rt().grid.pool(ctx.identity, ctx.query.district)


@api.route(
    "/v1/stats/grid",
    summary="Grid figures: visits per worker, the pool's claim times (median, p90) and fallbacks",
    audience=Audience(roles=("dispatcher", "supervisor", "chief", "auditor", "admin")),
    query=gs.GridStatsQuery,
    response=gs.GridStatsOut,
    errors=(404,),
    tags=("figures",),
)
def grid_stats(ctx):
    return rt().grid.stats(ctx.identity, ctx.query)


@api.route(
    "/v1/reports",
    "POST",
    summary="每月一题 / 年度大数据分析报告: HTML and PDF with charts, of a district or the city, in S3",
    audience=Audience(roles=("supervisor", "chief", "admin")),
    body=fs.ReportIn,
    response=fs.ReportOut,
    status=201,
    errors=(404,),
    tags=("foresight",),
)
def foresight_make_report(ctx):
    return json_response(rt().reports.generate(ctx.identity, ctx.body), 201)


@api.route(
    "/v1/reports",
    summary="The reports in the caller's scope, newest period first, with presigned download URLs",
    audience=Audience(roles=("supervisor", "chief", "auditor", "admin")),
    query=fs.ReportQuery,
    response=fs.ReportPage,
    errors=(404,),
    tags=("foresight",),
)
def foresight_reports(ctx):
    return rt().reports.list(ctx.identity, ctx.query.district)


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
    rt().settle()  # the local outbox drain first: what a commit handed it is not swept twice
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
    rt().settle()  # let the local outbox drain catch up: what was committed before this call is listed
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


@api.route(
    "/_local/broadcasts/run",
    "POST",
    summary="Run the broadcasts once (limit: SMS this run; crash_after: die after N sends, unmarked)",
    audience=PUBLIC,
    body=fs.BroadcastRunIn,
    response=fs.BroadcastRunOut,
    local_only=True,
    tags=("local",),
)
def local_run_broadcasts(ctx):
    return rt().broadcasts.run_due(limit=ctx.body.limit, crash_after=ctx.body.crash_after)


@api.route(
    "/_local/hotspots",
    "POST",
    summary="Run the hourly hotspot detection once now",
    audience=PUBLIC,
    body=fs.HotspotRunIn,
    response=fs.HotspotRunOut,
    local_only=True,
    tags=("local",),
)
def local_hotspots(ctx):
    return rt().hotspots.run(ctx.body.district)


# --- schedules and subscriptions ----------------------------------------------------------------


@app.schedule(Cron(30, 16, "*", "*", "?", "*"))  # 00:30 Asia/Shanghai: yesterday complete
@observed("audit_daily_export")
def audit_daily_export(event):
    job = (event.to_dict().get("detail") or {}).get("job")  # POST /v1/exports hands its job here
    return rt().export_jobs.run(job) if job else rt().export()


@app.schedule(Rate(1, unit=Rate.MINUTES))
@observed("sla_sweep")
def sla_sweep(event):
    return rt().run_sweep()


@app.on_dynamodb_record(stream_arn=constants.OUTBOX_STREAM_ARN, batch_size=100, starting_position="LATEST")
@observed("notify_outbox_stream")
def notify_outbox_stream(event):
    """The outbox table's stream: publishes what a commit just queued (the request did not wait for SNS)."""
    ids = [r.new_image["id"]["S"] for r in event if r.event_name == "INSERT" and r.new_image]
    return rt().publish_stream(ids)


@app.on_sns_message(topic=constants.INBOUND_SMS_TOPIC)
@observed("notify_inbound_sms")
def notify_inbound_sms(event):
    """SNS two-way SMS: the reply's originationNumber and messageBody arrive as JSON."""
    import json

    reply = json.loads(event.message)
    return rt().inbound.handle_reply(reply.get("originationNumber", ""), reply.get("messageBody", ""))


@app.schedule(Rate(1, unit=Rate.MINUTES))
@observed("foresight_broadcasts")
def foresight_broadcasts(event):
    """Each minute: the active broadcasts go on, up to the throttle (policy), outside quiet hours."""
    return rt().broadcasts.run_due()


@app.schedule(Rate(1, unit=Rate.HOURS))
@observed("foresight_hotspots")
def foresight_hotspot_detection(event):
    return rt().hotspots.run()


@app.schedule(Cron(0, 1, 1, "*", "?", "*"))  # the 1st, 09:00 Shanghai: last month (January: last year too)
@observed("foresight_monthly_reports")
def foresight_monthly_reports(event):
    return rt().reports.scheduled()
