"""Settings read from the environment (.env in development)."""

import os

SETTINGS = {
    "port": int(os.environ.get("PORT", "8000")),
    "database_url": os.environ.get("DATABASE_URL", "sqlite:///dev.db"),
    "stripe_key": os.environ.get("STRIPE_SECRET_KEY", ""),
    "debug": os.environ.get("DEBUG", "0") == "1",
}
