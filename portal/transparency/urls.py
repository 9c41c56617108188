from django.urls import path

from portal.transparency import views

app_name = "transparency"
urlpatterns = [
    path("", views.page, name="page"),
    path("data.json", views.data_json, name="data_json"),
    path("data.csv", views.data_csv, name="data_csv"),
    path("feed.atom", views.feed, name="feed"),
]
