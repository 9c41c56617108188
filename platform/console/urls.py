from django.urls import path

from console import catalog_views, views

app_name = "console"
urlpatterns = [
    path("", views.home, name="home"),
    path("console/", views.departments, name="departments"),
    path("console/departments/new/", views.department_new, name="department_new"),
    path("console/catalog/", catalog_views.plans, name="plans"),
    path("console/catalog/new/", catalog_views.plan_new, name="plan_new"),
    path("console/catalog/sync/", catalog_views.plans_sync, name="plans_sync"),
    path("console/catalog/<int:plan_id>/", catalog_views.plan_edit, name="plan_edit"),
    path("console/catalog/<int:plan_id>/sync/", catalog_views.plan_sync, name="plan_sync"),
    path("console/licenses/", catalog_views.licenses, name="licenses"),
    path("console/licenses/new/", catalog_views.license_new, name="license_new"),
]
