from django.urls import path

from console import billing_views, catalog_views, export_views, views

app_name = "console"
urlpatterns = [
    path("", views.home, name="home"),
    path("console/", views.departments, name="departments"),
    path("console/departments/new/", views.department_new, name="department_new"),
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
    # Billing (vendor staff with the billing.run_billing permission).
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
