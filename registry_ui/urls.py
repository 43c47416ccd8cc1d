"""URLs of the reviewer pages."""

from django.urls import path

from registry_ui.views import home

app_name = "registry_ui"
urlpatterns = [
    path("", home.home, name="home"),
]
