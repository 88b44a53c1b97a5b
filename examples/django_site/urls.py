"""Harbour Books' URLs."""

from __future__ import annotations

from django.urls import path

from examples.django_site import views

urlpatterns = [
    path("", views.home, name="home"),
    path("books/<slug:slug>/", views.book, name="book"),
    path("search/", views.search, name="search"),
    path("newsletter/", views.newsletter, name="newsletter"),
    path("api/books/", views.api_books, name="api-books"),
    path("static/<str:name>", views.static_file, name="static-file"),
]
