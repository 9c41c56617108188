from django.urls import include, path

from portal.department import (
    audit_views,
    billing_views,
    geocoder_views,
    incident_views,
    offer_views,
    portal_settings_views,
    setup_views,
    staff_views,
    views,
    yard_sign_views,
)

app_name = "department"
urlpatterns = [
    path("", views.home, name="home"),
    path("setup/", setup_views.setup_checklist, name="setup_checklist"),
    path("staff/", staff_views.staff, name="staff"),
    path("staff/<int:member_id>/role/", staff_views.staff_role, name="staff_role"),
    path(
        "staff/<int:member_id>/deactivate/", staff_views.staff_deactivate, name="staff_deactivate"
    ),
    path(
        "staff/<int:member_id>/reactivate/", staff_views.staff_reactivate, name="staff_reactivate"
    ),
    path("staff/<int:member_id>/resend/", staff_views.staff_resend, name="staff_resend"),
    path("staff/<int:member_id>/revoke/", staff_views.staff_revoke, name="staff_revoke"),
    path("map/", views.registry_map, name="map"),
    path("map/data.json", views.registry_map_data, name="map_data"),
    path("incidents/", incident_views.incidents, name="incidents"),
    path("incidents/<int:incident_id>/", incident_views.incident, name="incident"),
    path("incidents/<int:incident_id>/edit/", incident_views.incident_edit, name="incident_edit"),
    path(
        "incidents/<int:incident_id>/close/", incident_views.incident_close, name="incident_close"
    ),
    path(
        "incidents/<int:incident_id>/reopen/",
        incident_views.incident_reopen,
        name="incident_reopen",
    ),
    path(
        "incidents/<int:incident_id>/canvass/rows.json",
        incident_views.canvass_rows,
        name="canvass_rows",
    ),
    path(
        "incidents/<int:incident_id>/sites/<int:site_id>/state/",
        incident_views.canvass_entry,
        name="canvass_entry",
    ),
    path(
        "incidents/<int:incident_id>/sites/<int:site_id>/reveal/",
        incident_views.reveal,
        name="reveal",
    ),
    path("incidents/<int:incident_id>/notify/", incident_views.notify, name="notify"),
    path(
        "incidents/<int:incident_id>/sites/<int:site_id>/request/",
        incident_views.footage_request,
        name="footage_request",
    ),
    path(
        "incidents/<int:incident_id>/canvass.csv",
        incident_views.canvass_export,
        name="canvass_export",
    ),
    path("clips/<int:clip_id>/", incident_views.clip_download, name="clip_download"),
    path("settings/", views.department_settings, name="settings"),
    path("settings/portal/", portal_settings_views.portal_settings, name="portal_settings"),
    path("settings/geocoder/", geocoder_views.geocoder_settings, name="geocoder_settings"),
    path("geocode/", geocoder_views.geocode, name="geocode"),
    path("geocode/reverse/", geocoder_views.geocode_reverse, name="geocode_reverse"),
    path("plans/", offer_views.plan_offers, name="plan_offers"),
    path("license/", offer_views.license_status, name="license"),
    path("audit/", audit_views.audit, name="audit"),
    path("audit.csv", audit_views.audit_export, name="audit_export"),
    path("yard-signs/", yard_sign_views.yard_signs, name="yard_signs"),
    path("yard-signs.csv", yard_sign_views.yard_signs_export, name="yard_signs_export"),
    path(
        "yard-signs/<int:site_id>/delivered/",
        yard_sign_views.yard_sign_delivered,
        name="yard_sign_delivered",
    ),
    path("registry.csv", views.export_csv, name="export_csv"),
    path("registry.geojson", views.export_geojson, name="export_geojson"),
    path("import/", views.registry_import, name="import"),
    path("import/<int:job_id>/", views.import_job, name="import_job"),
    path("import/<int:job_id>/status.json", views.import_status, name="import_status"),
    path("import/<int:job_id>/commit/", views.import_commit, name="import_commit"),
    path("import/<int:job_id>/cancel/", views.import_cancel, name="import_cancel"),
    path("live/", include("portal.liveview.urls_staff")),
    path("guardrails/", include("portal.guardrails.urls")),
    path("device-subscriptions/", billing_views.device_subscriptions, name="device_subscriptions"),
]
