"""API: who am I (to check a token)."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from auditbo.api.auth import BEARER_DOC, api_user, token_required

blp = Blueprint("accounts_api", __name__, description="The caller's account")


class MeSchema(Schema):
    id = fields.Integer()
    username = fields.String()
    role = fields.String()
    org_credit_code = fields.String(allow_none=True)
    org_name = fields.String(allow_none=True)


@blp.route("/me")
class Me(MethodView):
    @blp.doc(**BEARER_DOC)
    @blp.response(200, MeSchema)
    @token_required
    def get(self):
        """The account the bearer token belongs to, with its role and body."""
        user = api_user()
        return {
            "id": user.id, "username": user.username, "role": user.role.value,
            "org_credit_code": user.org.credit_code if user.org else None,
            "org_name": user.org.name if user.org else None,
        }
