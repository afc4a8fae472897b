"""Imports every feature's models, so the metadata holds the whole domain."""

from auditbo.accounts.models import Affiliation, ApiToken, LoginThrottle, Role, User, UserSession  # noqa: F401
from auditbo.checklists.models import Checklist  # noqa: F401
from auditbo.complaints.models import Complaint, ComplaintFile  # noqa: F401
from auditbo.confirmations.models import ConfirmationAudit, Finding, Recusal  # noqa: F401
from auditbo.events import Event  # noqa: F401
from auditbo.filings.models import (  # noqa: F401
    Assessment,
    AssessmentConsultant,
    Capability,
    StatusChange,
    TeamMember,
)
from auditbo.locks import JobLock  # noqa: F401
from auditbo.orgs.models import Enterprise, Organisation, Person  # noqa: F401
from auditbo.ratings.models import Objection, Rating, RatingRun  # noqa: F401
from auditbo.sanctions.models import Sanction  # noqa: F401
from auditbo.spotchecks.models import (  # noqa: F401
    PlanUnit,
    SamplingPlan,
    SpotCheck,
    SpotCheckFinding,
    SpotCheckInspector,
)
