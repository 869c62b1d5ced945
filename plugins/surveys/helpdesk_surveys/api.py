"""The surveys plugin's REST API endpoints (the core's ``helpdesk_api_blueprints`` hook):
survey answers and other feedback (``/api/v1/surveys/answers``), for agents and admins,
scoped like the tickets they are about."""
from __future__ import annotations

from flask import current_app
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from helpdesk.plugin_api import ApiBlueprint, ApiError, api_user, db_session, parse_reference, scoped_to_tickets
from helpdesk_surveys.models import SurveyResponse

api = ApiBlueprint("surveys_api", __name__, url_prefix="/surveys",
                   description="Survey answers and customers' feedback (the surveys plugin).")


class AnswerSchema(Schema):
    id = fields.Int(required=True)
    kind = fields.Str(required=True, metadata={"enum": ["csat", "nps", "comment"]})
    score = fields.Int(allow_none=True)
    comment = fields.Str()
    source = fields.Str(metadata={"description": "survey, or where other feedback came from (web, …)"})
    customer_id = fields.Int(allow_none=True)
    ticket = fields.Str(allow_none=True, metadata={"description": "the reference of the ticket it is about"})
    agent_id = fields.Int(allow_none=True)
    team_id = fields.Int(allow_none=True)
    created_at = fields.Str(metadata={"description": "ISO 8601, UTC"})
    updated_at = fields.Str(metadata={"description": "ISO 8601, UTC"})


class AnswerPage(Schema):
    items = fields.List(fields.Nested(AnswerSchema), required=True)
    next_cursor = fields.Str(allow_none=True)


class AnswerArgs(Schema):
    kind = fields.Str(validate=validate.OneOf(["csat", "nps", "comment"]))
    ticket = fields.Str(metadata={"description": "only answers about this ticket (HD-42)"})
    limit = fields.Int(load_default=50, validate=validate.Range(1, 200))
    cursor = fields.Str()


def _time(value) -> str | None:
    return value.replace(microsecond=0).isoformat() + "Z" if value is not None else None


@api.get("/answers")
@api.arguments(AnswerArgs, location="query")
@api.response(200, AnswerPage)
def answers(args: dict):
    """Answers newest first (agents and admins; answers about tickets you cannot see are left out)."""
    user = api_user()
    if not user.is_staff:
        raise ApiError(403, "Only agents and admins read survey answers.")
    query = select(SurveyResponse).where(scoped_to_tickets(user, SurveyResponse.ticket_id))
    if args.get("kind"):
        query = query.where(SurveyResponse.kind == args["kind"])
    if args.get("ticket"):
        ticket_id = parse_reference(args["ticket"])
        if ticket_id is None:
            raise ApiError(422, "Not a ticket reference.", fields={"ticket": ["Like HD-42."]})
        query = query.where(SurveyResponse.ticket_id == ticket_id)
    if args.get("cursor"):
        if not args["cursor"].isdigit():
            raise ApiError(400, "The cursor is not valid: pass next_cursor exactly as it came.",
                           fields={"cursor": ["Not a cursor from this API."]})
        query = query.where(SurveyResponse.id < int(args["cursor"]))
    limit = args["limit"]
    rows = list(db_session().scalars(query.order_by(SurveyResponse.id.desc()).limit(limit + 1)))
    items = rows[:limit]
    prefix = current_app.config["TICKET_PREFIX"]
    return {"items": [{"id": r.id, "kind": r.kind, "score": r.score, "comment": r.comment, "source": r.source,
                       "customer_id": r.customer_id, "ticket": f"{prefix}-{r.ticket_id}" if r.ticket_id else None,
                       "agent_id": r.agent_id, "team_id": r.team_id, "created_at": _time(r.created_at),
                       "updated_at": _time(r.updated_at)} for r in items],
            "next_cursor": str(items[-1].id) if len(rows) > limit else None}
