import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_importing_rating_loads_neither_flask_nor_sqlalchemy():
    code = (
        "import rating, sys; assert not any(m.split('.')[0] in ('flask','sqlalchemy') for m in sys.modules)"
    )
    res = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False)
    assert res.returncode == 0, res.stderr


def test_public_api_is_exported():
    import rating

    for name in rating.__all__:
        assert hasattr(rating, name), name
    assert issubclass(rating.RatingError, ValueError)
