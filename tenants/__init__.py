"""Departments (tenants): their schemas, domains, branding, program settings and provisioning."""
