from django.urls import path

from portal.transparency import views

app_name = "transparency_console"
urlpatterns = [
    path("", views.policy_edit, name="policy"),
]
