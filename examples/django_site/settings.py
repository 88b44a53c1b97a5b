"""Harbour Books' Django settings, all in code: no database, no models, no migrations.

``asgi.py`` points ``DJANGO_SETTINGS_MODULE`` here. The Django secret (CSRF, signing) comes
from ``DJANGO_SECRET_KEY``; without it a fixed development key is used.
"""

from __future__ import annotations

import os
from pathlib import Path

HERE = Path(__file__).resolve().parent

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "harbour-books-django-dev-key-do-not-deploy")
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
ROOT_URLCONF = "examples.django_site.urls"

INSTALLED_APPS: list[str] = []  # no contrib apps: nothing needs a database
DATABASES: dict[str, dict[str, str]] = {}
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [HERE / "templates"],
        # `{% load etalage %}` gives the `{% slot %}` and `{% slotitem %}` tags.
        "OPTIONS": {"libraries": {"etalage": "etalage.django"}},
    }
]

STATIC_URL = "/static/"
USE_TZ = True
TIME_ZONE = "Europe/Lisbon"
