"""Flask extensions, created without an app and bound in ``create_app``."""

from __future__ import annotations

from flask_babel import Babel
from flask_bootstrap import Bootstrap5
from flask_limiter import Limiter
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_talisman import Talisman
from flask_wtf import CSRFProtect

from auditbo.database import Base
from auditbo.inputs import limiter_key

# join_transaction_mode only matters when a session is bound to a connection that is
# already inside a transaction (the test harness); with an Engine it changes nothing.
db = SQLAlchemy(model_class=Base, session_options={"join_transaction_mode": "create_savepoint"})
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
limiter = Limiter(key_func=limiter_key, default_limits=[])
talisman = Talisman()
bootstrap = Bootstrap5()
