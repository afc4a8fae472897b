"""Ratings in the web UI: the office's runs, a run's review page (distribution and transitions against
last month, biggest movers with their reasons, every subject), a subject's page (contributions as bars),
publication (four eyes), a body's own ratings with its objections, and the office's objection decisions.

Thin: permissions through ``authz.require``, the domain in ``services`` / ``objections``; the request
commits once at its end (auditbo/transaction.py).
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from auditbo import evidence, exports, transaction
from auditbo.authz import Action, can, require
from auditbo.errors import DomainError, Forbidden, ValidationFailed
from auditbo.events import Actor
from auditbo.extensions import db
from auditbo.inputs import int_arg
from auditbo.ratings import objections, queries, services
from auditbo.ratings.forms import DecisionForm, ObjectionForm, PublishForm, RunForm
from auditbo.ratings.models import Objection, ObjectionStatus, Rating, RunStatus
from rating import GRADES, INDICATORS, NR

bp = Blueprint("ratings", __name__, url_prefix="/ratings", template_folder="templates")

PER_PAGE = 50
MOVERS = 10
ALL_GRADES = (*GRADES, NR)
TYPE_TITLES = {"assessment_body": _l("Assessment bodies"), "consulting_body": _l("Consulting bodies"),
               "assessor": _l("Assessors"), "consultant": _l("Consultants")}
INDICATOR_TITLES = {"timeliness": _l("Timely filing"), "confirmation": _l("Confirmation audits"),
                    "spotcheck": _l("Spot checks"), "complaints": _l("Complaints")}
STATUS_TITLES = {"draft": _l("Draft"), "reviewed": _l("Reviewed"), "published": _l("Published"),
                 "superseded": _l("Superseded"), "failed": _l("Failed")}
OBJECTION_TITLES = {"lodged": _l("Open"), "upheld": _l("Upheld"), "dismissed": _l("Dismissed")}
GRADE_MEANINGS = {"AAA": _l("excellent record"), "AA": _l("good record"), "A": _l("satisfactory record"),
                  "B": _l("record with shortcomings"), "C": _l("poor record, or sanctioned"),
                  "NR": _l("not rated: too little recent evidence")}


@bp.app_context_processor
def _helpers() -> dict:
    return {"rating_status_title": lambda s: STATUS_TITLES.get(s, s),
            "rating_type_title": lambda t: TYPE_TITLES.get(t, t),
            "rating_grade_meaning": lambda g: GRADE_MEANINGS.get(g, ""),
            "indicator_title": lambda i: INDICATOR_TITLES.get(i, i),
            "objection_status_title": lambda s: OBJECTION_TITLES.get(getattr(s, "value", s), s)}


def _lang() -> str:
    from flask import g

    return "zh" if g.get("lang", "zh_Hans_CN").startswith("zh") else "en"


@bp.route("/")
@login_required
def index():
    _may_see_runs()
    page = int_arg("page", 1, maximum=1_000_000)
    items, total = queries.runs_page(page, PER_PAGE)
    return render_template("ratings/index.html", items=items, total=total, page=page, per_page=PER_PAGE,
                           form=RunForm(), may_run=can(current_user, Action.run_rating))


@bp.route("/runs", methods=["POST"])
@login_required
def run():
    require(current_user, Action.run_rating)
    form = RunForm()
    if not form.validate_on_submit():
        transaction.discard()
        flash(_("Give the month as YYYY-MM."), "danger")
        return redirect(url_for("ratings.index"))
    try:
        r = services.run_period(form.period.data, actor=Actor.of(current_user))
    except DomainError as exc:
        transaction.discard()
        detail = "; ".join(e.message for e in exc.errors) if isinstance(exc, ValidationFailed) else exc.detail
        flash(detail, "danger")
        return redirect(url_for("ratings.index"))
    if r.error:
        flash(_("The engine refused the data of %(p)s: %(e)s", p=r.period, e=r.error), "danger")
    else:
        flash(_("The ratings of %(p)s are computed as a draft; review them, then an admin publishes.",
                p=r.period), "success")
    return redirect(url_for("ratings.review", run_id=r.id))


def _may_see_runs() -> None:
    if not (can(current_user, Action.review_rating) or can(current_user, Action.publish_rating)):
        raise Forbidden("you may not do this")


@bp.route("/runs/<int:run_id>")
@login_required
def review(run_id: int):
    _may_see_runs()
    r = services.get_run(run_id)
    prev = queries.run_for_period(services.previous_period(r.period))
    stype = request.args.get("type") if request.args.get("type") in TYPE_TITLES else None
    page = int_arg("page", 1, maximum=1_000_000)
    items, total = queries.ratings_page(r, page, PER_PAGE, subject_type=stype)
    movers = _movers(r)
    v = r.validation or {}
    return render_template(
        "ratings/review.html", run=queries.run_out(r), r=r, prev=prev,
        dist=queries.distribution(r), prev_dist=queries.distribution(prev) if prev else None,
        transitions=v.get("transitions") or {}, grades=ALL_GRADES, movers=movers, items=items, total=total,
        page=page, per_page=PER_PAGE, stype=stype, types=TYPE_TITLES, lang=_lang(),
        may_publish=r.state == "draft" and can(current_user, Action.publish_rating, r),
        publish_form=PublishForm(),
    )


@bp.route("/runs/<int:run_id>/export.<any(csv, xlsx):fmt>")
@login_required
def export(run_id: int, fmt: str):
    """A month's ratings (under the page's subject type) streamed as CSV or XLSX; reasons in the UI's language."""
    _may_see_runs()
    r = services.get_run(run_id)
    stype = request.args.get("type") if request.args.get("type") in TYPE_TITLES else None
    lang = _lang()
    columns = [
        exports.Column("subject_type", _l("Subject"), label=lambda t: TYPE_TITLES.get(t, t)),
        exports.Column("subject_id", _l("Credit code or person id")), exports.Column("name", _l("Name")),
        exports.Column("grade", _l("Grade")), exports.Column("score", _l("Score")),
        exports.Column("score_low", _l("Lower bound")), exports.Column("score_high", _l("Upper bound")),
        exports.Column("effective_n", _l("Effective evidence")), exports.Column("version", _l("Version")),
        exports.Column("superseded", _l("Superseded")),
        exports.Column("reasons", _l("Reasons"), get=lambda row: "; ".join((row.reasons or {}).get(lang) or [])),
    ]
    return exports.response(fmt, queries.export_select(r, subject_type=stype), columns,
                            name=f"ratings-{r.period}-v{r.version}", sheet=r.period)


def _movers(r) -> list[dict]:
    """The subjects whose score moved most since last month, with why."""
    change = sa.cast(Rating.change["score_change"].as_float(), sa.Float)
    rows = db.session.execute(
        queries._rating_select().where(Rating.run_id == r.id, Rating.superseded_at.is_(None), change.is_not(None))
        .order_by(sa.func.abs(change).desc(), Rating.id).limit(MOVERS)).all()
    return [queries.rating_out(x, sid, name, period=r.period) for x, sid, name, _ in rows]


@bp.route("/runs/<int:run_id>/publish", methods=["POST"])
@login_required
def publish(run_id: int):
    require(current_user, Action.publish_rating)
    r = services.get_run(run_id)
    if not can(current_user, Action.publish_rating, r):
        raise Forbidden(_("Four eyes: you ran this month's ratings; another admin publishes them."))
    if not PublishForm().validate_on_submit():
        transaction.discard()
        flash(_("The form expired; try again."), "danger")
        return redirect(url_for("ratings.review", run_id=run_id))
    try:
        services.publish(r, actor=Actor.of(current_user))
    except DomainError as exc:
        transaction.discard()
        flash(exc.detail, "danger")
    else:
        flash(_("The ratings of %(p)s are published.", p=r.period), "success")
    return redirect(url_for("ratings.review", run_id=run_id))


@bp.route("/r/<int:rating_id>")
@login_required
def subject(rating_id: int):
    return _subject_page(rating_id)


def _subject_page(rating_id: int, form: ObjectionForm | None = None, status: int = 200):
    x, sid, name, body_id, r = queries.get_rating(rating_id)
    office = can(current_user, Action.review_rating) or can(current_user, Action.publish_rating)
    if not office:
        require(current_user, Action.view_rating_explained, objections._Body(body_id), hide=True)
        if r.status is not RunStatus.published:
            raise objections.NotFound("no such rating")
    item = queries.rating_out(x, sid, name, period=r.period)
    contrib = item["contributions"] or {}
    scale = max([abs(v) for v in contrib.values()] + [1.0])
    bars = [{"indicator": i, "points": contrib.get(i, 0.0), "width": round(abs(contrib.get(i, 0.0)) / scale, 4)}
            for i in INDICATORS]
    versions = list(db.session.scalars(sa.select(Rating).where(
        Rating.run_id == x.run_id, Rating.subject_type == x.subject_type,
        (Rating.org_id == x.org_id) if x.org_id else (Rating.person_id == x.person_id)).order_by(Rating.version)))
    objs = queries.objections_of([v.id for v in versions])
    may_object = (not office and x.superseded_at is None and r.status is RunStatus.published
                  and can(current_user, Action.object_to_rating, objections._Body(body_id)))
    last = objections.deadline(r)
    return render_template("ratings/subject.html", item=item, run=r, bars=bars, lang=_lang(), versions=versions,
                           objections=objs, files=objections.files_of(o.id for o in objs), may_object=may_object,
                           deadline=last, form=form or ObjectionForm(), decision_form=DecisionForm(), office=office,
                           may_decide=can(current_user, Action.decide_objection, r)), status


@bp.route("/r/<int:rating_id>/objections", methods=["POST"])
@login_required
def object_to(rating_id: int):
    objections.check_may_object(current_user, rating_id)
    form = ObjectionForm()
    if not form.validate_on_submit():
        transaction.discard()
        flash(_("Give a reason for the objection."), "danger")
        return redirect(url_for("ratings.subject", rating_id=rating_id))
    try:
        files = objections.read_evidence(request.files.getlist(form.files.name))
    except DomainError as exc:  # a refused attachment refuses the objection: nothing is stored
        transaction.discard()
        form.files.errors = list(form.files.errors) + [
            "; ".join(e.message for e in exc.errors) if isinstance(exc, ValidationFailed) else exc.detail]
        return _subject_page(rating_id, form, exc.status)
    try:
        o = objections.lodge(rating_id, form.reason.data, user=current_user, files=files)
    except DomainError as exc:
        transaction.discard()
        detail = "; ".join(e.message for e in exc.errors) if isinstance(exc, ValidationFailed) else exc.detail
        flash(detail, "danger")
    else:
        flash(_("Objection #%(id)d lodged; the office will decide it.", id=o.id), "success")
    return redirect(url_for("ratings.subject", rating_id=rating_id))


@bp.route("/objections/<int:objection_id>/files/<int:file_id>")
@login_required
def objection_file(objection_id: int, file_id: int):
    return evidence.send(objections.get_file(current_user, objection_id, file_id))


@bp.route("/objections")
@login_required
def objection_list():
    require(current_user, Action.decide_objection)
    rows = db.session.execute(
        queries._rating_select().add_columns(Objection).join(Objection, Objection.rating_id == Rating.id)
        .order_by((Objection.status == ObjectionStatus.lodged).desc(), Objection.id.desc()).limit(200)).all()
    items = [{"o": o, "rating": x, "subject_id": sid, "name": name} for x, sid, name, _, o in rows]
    return render_template("ratings/objections.html", items=items)


@bp.route("/objections/<int:objection_id>/decision", methods=["POST"])
@login_required
def decide(objection_id: int):
    o = objections.get_for_decision(objection_id, current_user)
    form = DecisionForm()
    if not form.validate_on_submit():
        transaction.discard()
        flash(_("Choose a decision and give a reason."), "danger")
        return redirect(url_for("ratings.subject", rating_id=o.rating_id))
    try:
        objections.decide(o, form.decision.data, form.grade.data or None, form.reason.data,
                          actor=Actor.of(current_user))
    except DomainError as exc:
        transaction.discard()
        detail = "; ".join(e.message for e in exc.errors) if isinstance(exc, ValidationFailed) else exc.detail
        flash(detail, "danger")
        return redirect(url_for("ratings.subject", rating_id=o.rating_id))
    flash(_("Objection #%(id)d decided.", id=o.id), "success")
    return redirect(url_for("ratings.subject", rating_id=o.corrected_rating_id or o.rating_id))


@bp.route("/mine")
@login_required
def mine():
    if current_user.org_id is None:
        raise Forbidden("only a body's own users see their body's ratings here")
    require(current_user, Action.view_rating_explained, objections._Body(current_user.org_id))
    data = queries.mine(current_user.org_id)
    return render_template("ratings/mine.html", data=data, lang=_lang())
