from django.urls import path

from console import views

app_name = "console"
urlpatterns = [
    path("", views.home, name="home"),
    path("console/", views.departments, name="departments"),
    path("console/departments/new/", views.department_new, name="department_new"),
]
