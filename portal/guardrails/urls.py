"""The console's guardrail pages, under /department/guardrails/ (names in the department's
namespace)."""

from django.urls import path

from portal.guardrails import views

urlpatterns = [
    path("", views.guardrails_settings, name="guardrails"),
    path("approvals/", views.approvals, name="approvals"),
    path("approvals/<int:approval_id>/decide/", views.approval_decide, name="approval_decide"),
    path("approvals/<int:approval_id>/", views.approval_result, name="approval_result"),
]
