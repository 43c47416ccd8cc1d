"""URLs of the reviewer pages."""

from django.urls import path

from registry_ui import views

app_name = "registry_ui"
urlpatterns = [
    path("", views.home, name="home"),
]
