from django.urls import include, path

from console import (
    billing_views,
    catalog_views,
    department_views,
    export_views,
    support_views,
    views,
)

app_name = "console"
urlpatterns = [
    # The program requests' queue and the provisioning from them.
    path("console/requests/", include("console.urls_requests")),
    path("console/requests/", include("console.urls_provision")),
    path("console/", views.departments, name="departments"),
    path("console/departments/new/", views.department_new, name="department_new"),
    # The department lifecycle (console.lifecycle).
    path(
        "console/departments/<int:department_id>/",
        department_views.department,
        name="department",
    ),
    path(
        "console/departments/<int:department_id>/edit/",
        department_views.department_edit,
        name="department_edit",
    ),
    path(
        "console/departments/<int:department_id>/domains/",
        department_views.domain_add,
        name="domain_add",
    ),
    path(
        "console/departments/<int:department_id>/domains/<int:domain_id>/remove/",
        department_views.domain_remove,
        name="domain_remove",
    ),
    path(
        "console/departments/<int:department_id>/domains/<int:domain_id>/primary/",
        department_views.domain_primary,
        name="domain_primary",
    ),
    path(
        "console/departments/<int:department_id>/suspend/",
        department_views.department_suspend,
        name="department_suspend",
    ),
    path(
        "console/departments/<int:department_id>/reactivate/",
        department_views.department_reactivate,
        name="department_reactivate",
    ),
    path(
        "console/departments/<int:department_id>/delete/",
        department_views.department_delete,
        name="department_delete",
    ),
    path(
        "console/departments/<int:department_id>/support/",
        support_views.department_support,
        name="department_support",
    ),
    path(
        "console/support/<int:session_id>/enter/", support_views.support_enter, name="support_enter"
    ),
    path(
        "console/support/<int:session_id>/write/", support_views.support_write, name="support_write"
    ),
    path("console/support/<int:session_id>/end/", support_views.support_end, name="support_end"),
    path("console/staff/", support_views.vendor_staff, name="vendor_staff"),
    path("console/audit/", support_views.platform_audit, name="platform_audit"),
    # A department's archives (vendor staff who may export departments).
    path(
        "console/departments/<int:department_id>/exports/",
        export_views.department_exports,
        name="department_exports",
    ),
    path(
        "console/departments/<int:department_id>/exports/<int:export_id>/download/",
        export_views.department_export_download,
        name="department_export_download",
    ),
    path("console/catalog/", catalog_views.plans, name="plans"),
    path("console/catalog/new/", catalog_views.plan_new, name="plan_new"),
    path("console/catalog/sync/", catalog_views.plans_sync, name="plans_sync"),
    path("console/catalog/<int:plan_id>/", catalog_views.plan_edit, name="plan_edit"),
    path("console/catalog/<int:plan_id>/sync/", catalog_views.plan_sync, name="plan_sync"),
    path("console/licenses/", catalog_views.licenses, name="licenses"),
    path("console/licenses/new/", catalog_views.license_new, name="license_new"),
    path(
        "console/licenses/<int:license_id>/send/",
        catalog_views.license_send_view,
        name="license_send",
    ),
    # Billing (vendor staff whose role runs billing: console.access).
    path("console/billing/", billing_views.subscriptions, name="billing_subscriptions"),
    path(
        "console/billing/subscriptions/<int:subscription_id>/",
        billing_views.subscription,
        name="billing_subscription",
    ),
    path(
        "console/billing/invoices/<int:invoice_id>/refund/",
        billing_views.refund,
        name="billing_refund",
    ),
    path(
        "console/billing/subscriptions/<int:subscription_id>/cancel/",
        billing_views.cancel,
        name="billing_cancel",
    ),
    path(
        "console/billing/subscriptions/<int:subscription_id>/complimentary/",
        billing_views.complimentary,
        name="billing_complimentary",
    ),
    path("console/billing/revenue/", billing_views.revenue, name="billing_revenue"),
    path("console/billing/problems/", billing_views.problems, name="billing_problems"),
    path(
        "console/billing/alerts/<int:alert_id>/resolve/",
        billing_views.alert_resolve,
        name="billing_alert_resolve",
    ),
    path("console/billing/fulfilment/", billing_views.fulfilment_queue, name="billing_fulfilment"),
    path(
        "console/billing/fulfilment/<int:fulfilment_id>/",
        billing_views.fulfilment_advance,
        name="billing_fulfilment_advance",
    ),
]
